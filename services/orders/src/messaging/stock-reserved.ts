import { stockReserved } from '@microshop/contracts/catalog-events'
import type { OrdersContext } from '../domain/orders-context.ts'
import { sagaConsumer } from './saga-consumer.ts'

/** onStockReserved: the catalog holds every line, so payments is asked to charge the total. */
export const onStockReserved = (ctx: OrdersContext) =>
  sagaConsumer(ctx, stockReserved, (data) => ({
    type: 'stock_reserved',
    reservationId: data.reservationId,
    expiresAt: new Date(data.expiresAt),
  }))

import { stockReservationFailed } from '@microshop/contracts/catalog-events'
import type { OrdersContext } from '../domain/orders-context.ts'
import { sagaConsumer } from './saga-consumer.ts'

/** onStockReservationFailed: a line is short or unknown, so the order is rejected; nothing was held. */
export const onStockReservationFailed = (ctx: OrdersContext) =>
  sagaConsumer(ctx, stockReservationFailed, (data) => ({
    type: 'stock_reservation_failed',
    reason: data.reason,
  }))

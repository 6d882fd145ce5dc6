import { paymentRefunded } from '@microshop/contracts/payments-events'
import type { OrdersContext } from '../domain/orders-context.ts'
import { sagaConsumer } from './saga-consumer.ts'

/** onPaymentRefunded: the money went back; the order's history says so, its status stays. */
export const onPaymentRefunded = (ctx: OrdersContext) =>
  sagaConsumer(ctx, paymentRefunded, (data) => ({
    type: 'payment_refunded',
    paymentId: data.paymentId,
  }))

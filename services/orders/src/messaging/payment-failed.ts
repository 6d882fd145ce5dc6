import { paymentFailed } from '@microshop/contracts/payments-events'
import type { OrdersContext } from '../domain/orders-context.ts'
import { sagaConsumer } from './saga-consumer.ts'

/** onPaymentFailed: nothing was charged, so the order is rejected and the stock released. */
export const onPaymentFailed = (ctx: OrdersContext) =>
  sagaConsumer(ctx, paymentFailed, (data) => ({
    type: 'payment_failed',
    paymentId: data.paymentId,
    reason: data.reason,
  }))

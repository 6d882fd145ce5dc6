import { paymentSucceeded } from '@microshop/contracts/payments-events'
import type { OrdersContext } from '../domain/orders-context.ts'
import { sagaConsumer } from './saga-consumer.ts'

/** onPaymentSucceeded: the total was charged, so the order is confirmed and the stock committed. */
export const onPaymentSucceeded = (ctx: OrdersContext) =>
  sagaConsumer(ctx, paymentSucceeded, (data) => ({
    type: 'payment_succeeded',
    paymentId: data.paymentId,
    amount: data.amount,
  }))

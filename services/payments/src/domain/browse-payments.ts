import { readableOwner, type Caller } from '@microshop/platform/auth/access-token-verifier'
import { notFound } from '@microshop/platform/errors'
import { decodePositionCursor, pageFrom, type Page } from '@microshop/platform/pagination'
import { paymentView, type PaymentView } from './payment.ts'
import type { PaymentsContext } from './payments-context.ts'

/** getPayment shows a payment to its owner or an admin; to anyone else it does not exist. */
export async function getPayment(
  ctx: PaymentsContext,
  caller: Caller,
  id: string,
): Promise<PaymentView> {
  const payment = await ctx.store.payments.find(id)
  const owner = readableOwner(caller)
  if (!payment || (owner !== undefined && payment.userId !== owner))
    throw notFound(`No payment with id ${id}.`)
  return paymentView(payment)
}

/** listPayments pages through the caller's payments newest first (an admin's: everyone's), optionally for one order. */
export async function listPayments(
  ctx: PaymentsContext,
  caller: Caller,
  options: { orderId?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<Page<PaymentView>> {
  const after = options.cursor ? decodePositionCursor(options.cursor) : undefined
  const payments = await ctx.store.payments.list({
    userId: readableOwner(caller),
    orderId: options.orderId,
    after: after && { createdAt: new Date(after.createdAt), id: after.id },
    limit: options.limit + 1,
  })
  return pageFrom(payments, options.limit, paymentView, (payment) => ({
    createdAt: payment.createdAt.toISOString(),
    id: payment.id,
  }))
}

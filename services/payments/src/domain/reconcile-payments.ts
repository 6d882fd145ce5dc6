import { newTrace } from '@microshop/platform/trace-context'
import type { PaymentsContext } from './payments-context.ts'
import { settlePayment } from './settle-payment.ts'

/** RECONCILE_BATCH is how many payments one round of the reconciler takes at most. */
export const RECONCILE_BATCH = 50

/**
 * reconcilePayments settles payments that have waited longer than `staleAfterMs` for a charge's
 * answer or for a refund: their event was dead-lettered, or lost with the in-process bus when the
 * process died. It asks the processor again with the same keys, so nothing happens twice, and a
 * transient failure is final here (the order has waited long enough). Replicas can run it at
 * once: each claims payments with SKIP LOCKED and touches them, so the others leave them alone.
 * Returns how many it took.
 */
export async function reconcilePayments(
  ctx: PaymentsContext,
  staleAfterMs = ctx.settings.reconcileAfterMs,
): Promise<number> {
  const now = ctx.now()
  const orderIds = await ctx.store.payments.claimUnsettled({
    staleBefore: new Date(now.getTime() - staleAfterMs),
    now,
    limit: RECONCILE_BATCH,
  })
  for (const orderId of orderIds) {
    // Each settlement starts its own trace: no request or event caused it but the clock.
    const { traceparent } = newTrace('payments.reconcile')
    const logger = ctx.logger.child({ orderId, reconciler: true })
    try {
      await settlePayment(
        ctx,
        orderId,
        { lastAttempt: true, traceparent, logger },
        { mayCharge: true },
      )
    } catch (error) {
      logger.warn({ err: error }, 'could not settle a payment; the reconciler will try again')
    }
  }
  if (orderIds.length > 0)
    ctx.logger.info({ payments: orderIds.length }, 'unsettled payments reconciled')
  return orderIds.length
}

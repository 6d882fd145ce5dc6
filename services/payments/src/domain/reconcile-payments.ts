import { continueTrace } from '@microshop/platform/http/trace-context'
import { claimUnsettledPayments } from '../db/payment-repository.ts'
import { settlePayment, type PaymentsDeps } from './settle-payment.ts'

const BATCH = 50

/**
 * reconcilePayments settles payments that have waited longer than `staleAfterMs` for a charge's
 * answer or for a refund: their event was dead-lettered, or lost with the in-process bus when the
 * process died. It asks the processor again with the same keys, so nothing happens twice, and a
 * transient failure is final here (the order has waited long enough). Returns how many it took.
 */
export async function reconcilePayments(deps: PaymentsDeps, staleAfterMs: number): Promise<number> {
  const now = deps.now?.() ?? new Date()
  const orderIds = await claimUnsettledPayments(deps.database.db, {
    staleBefore: new Date(now.getTime() - staleAfterMs),
    now,
    limit: BATCH,
  })
  for (const orderId of orderIds) {
    const { traceparent } = continueTrace(undefined)
    const logger = deps.logger.child({ orderId, reconciler: true })
    try {
      await settlePayment(
        deps,
        orderId,
        { lastAttempt: true, traceparent, logger },
        {
          mayCharge: true,
        },
      )
    } catch (error) {
      logger.warn({ err: error }, 'could not settle a payment; the reconciler will try again')
    }
  }
  return orderIds.length
}

/**
 * startPaymentReconciler runs reconcilePayments every `intervalMs`. Replicas can run it at once:
 * each claims payments with SKIP LOCKED and touches them, so the others leave them alone.
 */
export function startPaymentReconciler(
  deps: PaymentsDeps,
  options: { staleAfterMs: number; intervalMs: number },
): { stop: () => Promise<void> } {
  let running: Promise<void> = Promise.resolve()
  const sweep = async () => {
    let taken: number
    do {
      taken = await reconcilePayments(deps, options.staleAfterMs)
      if (taken > 0) deps.logger.info({ payments: taken }, 'unsettled payments reconciled')
    } while (taken === BATCH)
  }
  const timer = setInterval(() => {
    running = running
      .then(sweep)
      .catch((error: unknown) => deps.logger.warn({ err: error }, 'reconciling payments failed'))
  }, options.intervalMs)
  timer.unref()
  return {
    stop: async () => {
      clearInterval(timer)
      await running
    },
  }
}

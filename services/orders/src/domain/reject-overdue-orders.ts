import { newTrace } from '@microshop/platform/trace-context'
import { advanceLockedOrder } from './advance-order.ts'
import type { OrdersContext } from './orders-context.ts'

/**
 * rejectOverdueOrders rejects PENDING orders whose step deadline passed (reason `timeout`): a
 * participant that is gone for good cannot hold an order forever. The rejection event makes the
 * catalog release the stock and payments refund a charge that landed late. Orders another
 * replica's sweep or a consumer holds are skipped, to be seen next time. Returns how many it
 * rejected; a full batch means there may be more.
 *
 * `answeredBefore` is when every answer published before it had been handled (the consumers'
 * watermark): only orders whose deadline passed before it are judged, so a deadline never beats
 * an answer that arrived in time and still waits in a queue.
 */
export async function rejectOverdueOrders(
  ctx: OrdersContext,
  limit: number,
  answeredBefore: Date = ctx.now(),
): Promise<number> {
  const now = ctx.now()
  const judgedBefore = answeredBefore < now ? answeredBefore : now
  return ctx.store.transaction(async (tx) => {
    const overdue = await tx.orders.lockOverdue(judgedBefore, limit)
    let rejected = 0
    for (const order of overdue) {
      // Each rejection starts its own trace: no request or event caused it but the clock.
      const { traceparent } = newTrace('orders.step.deadline_passed')
      const outcome = await advanceLockedOrder(
        ctx,
        tx,
        order,
        { type: 'deadline_passed' },
        traceparent,
      )
      if (outcome.outcome === 'changed') rejected++
    }
    if (rejected > 0) ctx.logger.warn({ rejected }, 'orders past their step deadline rejected')
    return rejected
  })
}

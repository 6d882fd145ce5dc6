import { continueTrace } from '@microshop/platform/http/trace-context'
import { advanceLockedOrder } from './advance-order.ts'
import type { OrdersContext } from './orders-context.ts'

/**
 * rejectOverdueOrders rejects PENDING orders whose step deadline passed (reason `timeout`): a
 * participant that is gone for good cannot hold an order forever. The rejection event makes the
 * catalog release the stock and payments refund a charge that landed late. Orders another
 * replica's sweep or a consumer holds are skipped, to be seen next time. Returns how many it
 * rejected; a full batch means there may be more.
 */
export async function rejectOverdueOrders(ctx: OrdersContext, limit: number): Promise<number> {
  return ctx.store.transaction(async (tx) => {
    const overdue = await tx.orders.lockOverdue(ctx.now(), limit)
    let rejected = 0
    for (const order of overdue) {
      // Each rejection starts its own trace: no request or event caused it but the clock.
      const { traceparent } = continueTrace(undefined)
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

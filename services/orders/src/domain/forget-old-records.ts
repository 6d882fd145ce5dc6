import { INBOX_RETENTION_MS } from '@microshop/platform/events/inbox'
import type { OrdersContext } from './orders-context.ts'

const BATCH = 1_000

/**
 * forgetOldRecords prunes idempotency keys past their retention (their orders stay) and inbox
 * entries past the streams' age, in batches so no transaction grows large. Safe to run on every
 * replica at once.
 */
export async function forgetOldRecords(
  ctx: OrdersContext,
): Promise<{ idempotencyKeys: number; inboxEntries: number }> {
  const before = new Date(ctx.now().getTime() - ctx.settings.idempotencyKeyRetentionMs)
  let idempotencyKeys = 0
  let pruned: number
  do {
    pruned = await ctx.store.idempotencyKeys.prune(before, BATCH)
    idempotencyKeys += pruned
  } while (pruned === BATCH)
  const inboxEntries = await ctx.store.pruneInbox(INBOX_RETENTION_MS)
  return { idempotencyKeys, inboxEntries }
}

import { sql, type RawBuilder } from 'kysely'

/**
 * customerPlacementLock is the expression that takes a customer's placement lock for the rest
 * of the transaction: their placements run one after the other, so that each counts what the
 * earlier ones hold (pending-holds.ts). The orders and idempotency-keys repositories take it.
 */
export function customerPlacementLock(userId: string): RawBuilder<unknown> {
  return sql`pg_advisory_xact_lock(hashtextextended(${`holds:${userId}`}, 0))`
}

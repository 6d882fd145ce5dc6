import { sql } from 'kysely'
import type { Executor } from '@microshop/platform/db/store'
import type { OrdersRepositories } from '../domain/orders-context.ts'
import { customerPlacementLock } from './placement-lock.ts'
import type { OrdersTables } from './tables.ts'

/** idempotencyKeys remembers responses per (user, key); see migrations/0001_orders.sql. */
export function idempotencyKeysRepository(
  db: Executor<OrdersTables>,
): OrdersRepositories['idempotencyKeys'] {
  return {
    async find(userId, key) {
      const row = await db
        .selectFrom('idempotencyKeys')
        .select(['requestHash', 'orderId', 'responseStatus', 'responseBody'])
        .where('userId', '=', userId)
        .where('key', '=', key)
        .executeTakeFirst()
      return (
        row && {
          requestHash: row.requestHash,
          orderId: row.orderId,
          status: row.responseStatus,
          body: row.responseBody,
        }
      )
    },

    /**
     * claim records the response for a key, in the caller's transaction, unless another request
     * has it. It first takes a transaction-level advisory lock on the key without waiting: when
     * another transaction holds it, that request is still running (`in_flight`). Holding the
     * lock, the insert cannot wait on anyone: either it records (`claimed`) or the key already has
     * a committed response (`taken`). The lock goes away with the transaction, even in a crash,
     * so no key is ever left stuck in flight. With the key's lock, it also takes the customer's
     * placement lock (waiting for it), as the placement needs next. One round trip.
     */
    async claim(userId, key, response) {
      const { rows } = await sql<{ held: boolean; claimed: boolean }>`
        with lock as (
          select pg_try_advisory_xact_lock(hashtextextended(${`${userId}:${key}`}, 0)) as held
        ), placements as (
          select ${customerPlacementLock(userId)} from lock where held
        ), claimed as (
          insert into idempotency_keys
            (user_id, key, request_hash, order_id, response_status, response_body)
          select ${userId}, ${key}, ${response.requestHash}, ${response.orderId},
                 ${response.status}, ${JSON.stringify(response.body)}::jsonb
          from lock where held
          on conflict (user_id, key) do nothing
          returning 1
        )
        -- placements is read so that it runs (a CTE nobody reads is never evaluated).
        select held, exists (select 1 from claimed) as claimed,
               (select count(*) from placements) as placement_locked
        from lock`.execute(db)
      const [row] = rows
      if (!row?.held) return 'in_flight'
      return row.claimed ? 'claimed' : 'taken'
    },

    /** prune forgets up to `limit` keys recorded before `before`; returns how many. */
    async prune(before, limit) {
      const result = await sql`
        delete from idempotency_keys where (user_id, key) in (
          select user_id, key from idempotency_keys where created_at < ${before} limit ${limit})`.execute(
        db,
      )
      return Number(result.numAffectedRows ?? 0)
    },
  }
}

import { sql, type Kysely, type Transaction } from 'kysely'
import type { OrdersTables } from './tables.ts'

type Db = Kysely<OrdersTables> | Transaction<OrdersTables>

/** StoredResponse is the response first given to a request with an idempotency key. */
export interface StoredResponse {
  requestHash: string
  orderId: string
  status: number
  body: unknown
}

/** idempotencyKeys remembers responses per (user, key); see migrations/0001_orders.sql. */
export function idempotencyKeysRepository(db: Db) {
  return {
    async find(userId: string, key: string): Promise<StoredResponse | undefined> {
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
     * lock takes the key for the rest of the transaction, or gives false at once when another
     * transaction holds it: that request is still running. Being a transaction-level advisory
     * lock, it goes away with a crash, so no key is ever left stuck "in flight".
     */
    async lock(userId: string, key: string): Promise<boolean> {
      const { rows } = await sql<{ locked: boolean }>`
        select pg_try_advisory_xact_lock(hashtextextended(${`${userId}:${key}`}, 0)) as locked`.execute(
        db,
      )
      return rows[0]?.locked === true
    },

    /** insert records a response; false when the key already has one. */
    async insert(userId: string, key: string, response: StoredResponse): Promise<boolean> {
      const inserted = await db
        .insertInto('idempotencyKeys')
        .values({
          userId,
          key,
          requestHash: response.requestHash,
          orderId: response.orderId,
          responseStatus: response.status,
          responseBody: JSON.stringify(response.body),
        })
        .onConflict((conflict) => conflict.columns(['userId', 'key']).doNothing())
        .returning('orderId')
        .executeTakeFirst()
      return inserted !== undefined
    },

    /** prune forgets up to `limit` keys recorded before `before`; returns how many. */
    async prune(before: Date, limit: number): Promise<number> {
      const result = await sql`
        delete from idempotency_keys where (user_id, key) in (
          select user_id, key from idempotency_keys where created_at < ${before} limit ${limit})`.execute(
        db,
      )
      return Number(result.numAffectedRows ?? 0)
    },
  }
}

export type IdempotencyKeysRepository = ReturnType<typeof idempotencyKeysRepository>

import { sql, type QueryExecutorProvider, type RawBuilder, type Transaction } from 'kysely'
import type { CloudEvent } from '@microshop/contracts/envelope'
import type { Database } from '../db/database.ts'
import type { PeriodicJobOptions } from '../jobs/periodic-job.ts'

/**
 * handleOnce records, inside the caller's transaction, that `consumer` handled `eventId`; it
 * returns false when it already had, and the caller then changes nothing. A second delivery
 * racing the first waits on the first's uncommitted row, then sees it.
 */
export async function handleOnce(
  trx: QueryExecutorProvider,
  consumer: string,
  eventId: string,
): Promise<boolean> {
  const { rows } = await sql`
    insert into inbox (consumer, event_id) values (${consumer}, ${eventId})
    on conflict do nothing
    returning event_id`.execute(trx)
  return rows.length > 0
}

/**
 * notInInbox is true, in SQL, while `consumer` has not recorded `eventId`: the guard of a
 * statement that applies an event's effect and records it at once.
 */
export function notInInbox(consumer: string, eventId: string): RawBuilder<boolean> {
  return sql<boolean>`not exists (select 1 from inbox
    where consumer = ${consumer}::text and event_id = ${eventId}::uuid)`
}

/**
 * isUniqueViolation tells a statement that failed on a unique key, such as the inbox's: a plain
 * insert of the inbox record makes a delivery racing another fail whole instead of applying twice.
 */
export const isUniqueViolation = (error: unknown): boolean =>
  (error as { code?: unknown }).code === '23505'

/**
 * wasHandled tells whether `consumer` already handled `eventId`. A handler whose work takes
 * several transactions (a call to another system between them) checks it first and records the
 * event with handleOnce in its last transaction, together with the last change.
 */
export async function wasHandled(
  executor: QueryExecutorProvider,
  consumer: string,
  eventId: string,
): Promise<boolean> {
  const { rows } = await sql`
    select 1 from inbox where consumer = ${consumer} and event_id = ${eventId}`.execute(executor)
  return rows.length > 0
}

/**
 * consumeOnce runs `work` in one transaction with the inbox record, so an event's effect and the
 * fact that it was handled commit together: a redelivered event returns false and changes
 * nothing. If `work` throws, neither is kept and the event can be retried.
 */
export async function consumeOnce<DB>(
  database: Database<DB>,
  consumer: string,
  event: Pick<CloudEvent, 'id'>,
  work: (trx: Transaction<DB>) => Promise<void>,
): Promise<boolean> {
  return database.db.transaction().execute(async (trx) => {
    if (!(await handleOnce(trx, consumer, event.id))) return false
    await work(trx)
    return true
  })
}

/**
 * pruneInbox forgets events handled longer ago than `olderThanMs`; keep that above the
 * stream's max age (seven days by default), after which no redelivery can come.
 */
export async function pruneInbox<DB>(database: Database<DB>, olderThanMs: number): Promise<number> {
  const result = await sql`
    delete from inbox where handled_at < now() - ${olderThanMs} * interval '1 millisecond'`.execute(
    database.db,
  )
  return Number(result.numAffectedRows ?? 0)
}

/**
 * INBOX_RETENTION_MS is how long handled event ids are kept: past the streams' seven-day max age
 * no redelivery can come.
 */
export const INBOX_RETENTION_MS = 8 * 24 * 3_600_000

const PRUNE_INTERVAL_MS = 3_600_000

/** pruneInboxJob is the hourly job that forgets handled event ids past INBOX_RETENTION_MS. */
export function pruneInboxJob(store: {
  pruneInbox(olderThanMs: number): Promise<number>
}): Omit<PeriodicJobOptions, 'logger'> {
  return {
    name: 'prune-inbox',
    intervalMs: PRUNE_INTERVAL_MS,
    firstRunAfterMs: PRUNE_INTERVAL_MS,
    run: async () => {
      await store.pruneInbox(INBOX_RETENTION_MS)
      return { more: false }
    },
  }
}

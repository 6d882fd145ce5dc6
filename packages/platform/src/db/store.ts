import type { Kysely, Transaction } from 'kysely'
import type { CloudEvent } from '@microshop/contracts/envelope'
import { handleOnce, pruneInbox, wasHandled } from '../events/inbox.ts'
import { addToOutbox, type OutboxEntry } from '../events/outbox.ts'
import type { Database } from './database.ts'

/** Executor is where a repository runs its statements: the database, or one transaction on it. */
export type Executor<DB> = Kysely<DB> | Transaction<DB>

/**
 * atomically runs `work` in a transaction: the caller's when `db` is one already, else a new one.
 * A repository method that makes one atomic change in several statements uses it, so it works
 * alone and inside a use case's transaction alike.
 */
export function atomically<DB, T>(
  db: Executor<DB>,
  work: (trx: Executor<DB>) => Promise<T>,
): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work)
}

/**
 * OutboxRecorder hears the outbox entries a repository's statement wrote itself (a state change
 * and its events in one statement): the store publishes them once they are committed.
 */
export interface OutboxRecorder {
  record(entries: readonly OutboxEntry[]): void
}

/** Outbox takes the events a transaction publishes: they go out once, and only if, it commits. */
export interface Outbox {
  add(...events: CloudEvent[]): Promise<void>
}

/**
 * Inbox records which events a consumer handled. `record` is false when the event was already
 * recorded (then the caller changes nothing); `has` looks without recording, for work that spans
 * several transactions and records the event in its last one.
 */
export interface Inbox {
  record(consumer: string, eventId: string): Promise<boolean>
  has(consumer: string, eventId: string): Promise<boolean>
}

/** InTransaction is a service's repositories on one transaction, with its outbox and inbox. */
export type InTransaction<Repositories> = Repositories & { outbox: Outbox; inbox: Inbox }

/**
 * Store is how a service's use cases reach its database: the repositories for single statements,
 * `transaction` for work that commits as one (state, events, inbox), and `consumeOnce` for the
 * effect of an event, which commits with the record that it was handled.
 */
export type Store<Repositories> = Repositories & {
  transaction<T>(work: (tx: InTransaction<Repositories>) => Promise<T>): Promise<T>
  /** consumeOnce runs `work` unless `consumer` already handled `eventId`; false when it had. */
  consumeOnce(
    consumer: string,
    eventId: string,
    work: (tx: InTransaction<Repositories>) => Promise<void>,
  ): Promise<boolean>
  /** pruneInbox forgets handled event ids older than `olderThanMs`; returns how many. */
  pruneInbox(olderThanMs: number): Promise<number>
}

export interface StoreOptions {
  /**
   * committed hears the outbox entries of every transaction that committed with some: the
   * service's outbox relay, which publishes them at once.
   */
  committed?: (entries: readonly OutboxEntry[]) => void
}

/**
 * createStore gives a service its Store: `repositories` builds the service's repositories on an
 * executor, once on the database and once per transaction.
 */
export function createStore<DB, Repositories extends object>(
  database: Database<DB>,
  repositories: (db: Executor<DB>, outbox: OutboxRecorder) => Repositories,
  options: StoreOptions = {},
): Store<Repositories> {
  const inTransaction = (
    trx: Transaction<DB>,
    added: OutboxEntry[],
  ): InTransaction<Repositories> => ({
    // In a transaction, what a statement wrote goes out when the transaction commits.
    ...repositories(trx, { record: (entries) => added.push(...entries) }),
    outbox: {
      add: async (...events) => {
        added.push(...(await addToOutbox(trx, ...events)))
      },
    },
    inbox: {
      record: (consumer, eventId) => handleOnce(trx, consumer, eventId),
      has: (consumer, eventId) => wasHandled(trx, consumer, eventId),
    },
  })
  const transaction = async <T>(work: (tx: InTransaction<Repositories>) => Promise<T>) => {
    const added: OutboxEntry[] = []
    const result = await database.db.transaction().execute((trx) => work(inTransaction(trx, added)))
    if (added.length > 0) options.committed?.(added)
    return result
  }
  // Outside one, a statement commits as it returns: what it wrote goes out at once.
  const committedNow: OutboxRecorder = {
    record: (entries) => {
      if (entries.length > 0) options.committed?.(entries)
    },
  }
  return {
    ...repositories(database.db, committedNow),
    transaction,
    consumeOnce: (consumer, eventId, work) =>
      transaction(async (tx) => {
        if (!(await tx.inbox.record(consumer, eventId))) return false
        await work(tx)
        return true
      }),
    pruneInbox: (olderThanMs) => pruneInbox(database, olderThanMs),
  }
}

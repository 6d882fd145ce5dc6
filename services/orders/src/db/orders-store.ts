import type { Kysely, Transaction } from 'kysely'
import type { CloudEvent } from '@microshop/contracts/envelope'
import type { Database } from '@microshop/platform/db/database'
import { consumeOnce, pruneInbox } from '@microshop/platform/events/inbox'
import { addToOutbox } from '@microshop/platform/events/outbox'
import { catalogProductsRepository } from './catalog-products-repository.ts'
import { idempotencyKeysRepository } from './idempotency-keys-repository.ts'
import { ordersRepository } from './orders-repository.ts'
import type { OrdersTables } from './tables.ts'

/** Repositories are the service's tables, all on one connection or one transaction. */
export function repositories(db: Kysely<OrdersTables> | Transaction<OrdersTables>) {
  return {
    orders: ordersRepository(db),
    catalogProducts: catalogProductsRepository(db),
    idempotencyKeys: idempotencyKeysRepository(db),
    /** outbox.add writes events to publish once, and only if, the transaction commits. */
    outbox: { add: (...events: CloudEvent[]) => addToOutbox(db, ...events) },
  }
}

export type Repositories = ReturnType<typeof repositories>

/**
 * OrdersStore is how use cases reach the database: the repositories for single statements, and
 * `transaction` or `consumeOnce` for work that must commit as one (state, events, inbox record).
 */
export interface OrdersStore extends Repositories {
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>
  /** consumeOnce runs `work` unless `consumer` already handled `eventId`; false when it had. */
  consumeOnce(
    consumer: string,
    eventId: string,
    work: (tx: Repositories) => Promise<void>,
  ): Promise<boolean>
  /** pruneInbox forgets handled event ids older than `olderThanMs`; returns how many. */
  pruneInbox(olderThanMs: number): Promise<number>
}

export function ordersStore(database: Database<OrdersTables>): OrdersStore {
  return {
    ...repositories(database.db),
    transaction: (work) => database.db.transaction().execute((trx) => work(repositories(trx))),
    consumeOnce: (consumer, eventId, work) =>
      consumeOnce(database, consumer, { id: eventId }, (trx) => work(repositories(trx))),
    pruneInbox: (olderThanMs) => pruneInbox(database, olderThanMs),
  }
}

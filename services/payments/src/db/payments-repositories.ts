import type { Executor, OutboxRecorder } from '@microshop/platform/db/store'
import type { PaymentsRepositories } from '../domain/payments-context.ts'
import { paymentRepository } from './payment-repository.ts'
import type { PaymentsTables } from './tables.ts'

/**
 * paymentsRepositories are the payments tables on one executor: the database or a transaction.
 * `outbox` hears the events a statement wrote, for the relay to publish once they are committed.
 */
export function paymentsRepositories(
  db: Executor<PaymentsTables>,
  outbox: OutboxRecorder,
): PaymentsRepositories {
  return { payments: paymentRepository(db, outbox) }
}

import type { Executor, OutboxRecorder } from '@microshop/platform/db/store'
import type { CatalogRepositories } from '../domain/catalog-context.ts'
import { productRepository } from './product-repository.ts'
import { reservationRepository } from './reservation-repository.ts'
import type { CatalogTables } from './tables.ts'

/**
 * catalogRepositories are the catalog's tables on one executor: the database or a transaction;
 * `outbox` hears the events their statements write.
 */
export function catalogRepositories(
  db: Executor<CatalogTables>,
  outbox: OutboxRecorder,
): CatalogRepositories {
  return { products: productRepository(db), reservations: reservationRepository(db, outbox) }
}

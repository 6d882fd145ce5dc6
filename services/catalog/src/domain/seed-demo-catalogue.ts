import type { Kysely } from 'kysely'
import { countProducts } from '../db/product-repository.ts'
import type { CatalogTables } from '../db/tables.ts'
import { demoCatalogue } from './demo-catalogue.ts'
import { createProduct } from './manage-products.ts'

/**
 * seedDemoCatalogue loads the demo catalogue into an empty catalogue and returns how many
 * products it added; a catalogue with any product in it is left as it is.
 */
export async function seedDemoCatalogue(db: Kysely<CatalogTables>): Promise<number> {
  if ((await countProducts(db)) > 0) return 0
  for (const product of demoCatalogue) await createProduct(db, product)
  return demoCatalogue.length
}

import type { Kysely, Transaction } from 'kysely'
import type { CatalogProduct } from '../domain/product-prices.ts'
import type { CatalogProductsTable, OrdersTables } from './tables.ts'

type Db = Kysely<OrdersTables> | Transaction<OrdersTables>

/** catalogProductsRepository is orders' read model of the catalogue. */
export function catalogProductsRepository(db: Db) {
  return {
    async findMany(ids: readonly string[]): Promise<CatalogProduct[]> {
      if (ids.length === 0) return []
      const rows = await db
        .selectFrom('catalogProducts')
        .select(['id', 'sku', 'name', 'priceAmount', 'currency', 'version'])
        .where('id', 'in', ids)
        .execute()
      return rows.map((row) => ({
        id: row.id,
        sku: row.sku,
        name: row.name,
        price: { amount: row.priceAmount, currency: row.currency },
        version: row.version,
      }))
    },

    /** addMissing stores fetched products that are not there yet; an event's copy wins. */
    async addMissing(products: readonly CatalogProduct[]): Promise<void> {
      if (products.length === 0) return
      await db
        .insertInto('catalogProducts')
        .values(products.map(toRow))
        .onConflict((conflict) => conflict.column('id').doNothing())
        .execute()
    },

    /** applyChange stores a product unless the stored copy is as new or newer; true when it did. */
    async applyChange(product: CatalogProduct): Promise<boolean> {
      const applied = await db
        .insertInto('catalogProducts')
        .values(toRow(product))
        .onConflict((conflict) =>
          conflict
            .column('id')
            .doUpdateSet((eb) => ({
              sku: eb.ref('excluded.sku'),
              name: eb.ref('excluded.name'),
              priceAmount: eb.ref('excluded.priceAmount'),
              currency: eb.ref('excluded.currency'),
              version: eb.ref('excluded.version'),
              updatedAt: new Date(),
            }))
            .where('catalogProducts.version', '<', (eb) => eb.ref('excluded.version')),
        )
        .returning('id')
        .executeTakeFirst()
      return applied !== undefined
    },
  }
}

export type CatalogProductsRepository = ReturnType<typeof catalogProductsRepository>

function toRow(product: CatalogProduct): Omit<CatalogProductsTable, 'updatedAt'> {
  return {
    id: product.id,
    sku: product.sku,
    name: product.name,
    priceAmount: product.price.amount,
    currency: product.price.currency,
    version: product.version,
  }
}

import { sql } from 'kysely'
import type { Executor } from '@microshop/platform/db/store'
import type { OrdersRepositories } from '../domain/orders-context.ts'
import type { CatalogProduct } from '../domain/product-prices.ts'
import type { RecentPrices } from './recent-prices.ts'
import type { CatalogProductsTable, OrdersTables } from './tables.ts'

// RENEW_AT_ONCE bounds how many kept products a checkout's read renews besides its own.
const RENEW_AT_ONCE = 200

/**
 * catalogProductsRepository is orders' read model of the catalogue, in front of which `recent`
 * keeps the products read or changed in the last moment: a checkout of them reads nothing.
 */
export function catalogProductsRepository(
  db: Executor<OrdersTables>,
  recent: RecentPrices,
): OrdersRepositories['catalogProducts'] {
  return {
    async findMany(ids) {
      const found: CatalogProduct[] = []
      const unread: string[] = []
      for (const id of ids) {
        const product = recent.get(id)
        if (product) found.push(product)
        else unread.push(id)
      }
      if (unread.length === 0) return found
      // The products kept too long are read again with these: one query renews the memory.
      const wanted = new Set(unread)
      const renewed = recent.expired(RENEW_AT_ONCE).filter((id) => !wanted.has(id))
      const rows = await db
        .selectFrom('catalogProducts')
        .select(['id', 'sku', 'name', 'priceAmount', 'currency', 'version'])
        // One statement text (and prepared statement) whatever the number of products.
        .where('id', '=', sql<string>`any(${[...unread, ...renewed]}::uuid[])`)
        .execute()
      const read = new Set<string>()
      for (const row of rows) {
        const product: CatalogProduct = {
          id: row.id,
          sku: row.sku,
          name: row.name,
          price: { amount: row.priceAmount, currency: row.currency },
          version: row.version,
        }
        recent.remember(product)
        read.add(row.id)
        // A newer version this replica recorded meanwhile stays the one answered.
        if (wanted.has(row.id)) found.push(recent.get(row.id) ?? product)
      }
      for (const id of renewed) if (!read.has(id)) recent.forget(id)
      return found
    },

    /** addMissing stores fetched products that are not there yet; an event's copy wins. */
    async addMissing(products) {
      if (products.length === 0) return
      await db
        .insertInto('catalogProducts')
        .values(products.map(toRow))
        .onConflict((conflict) => conflict.column('id').doNothing())
        .execute()
    },

    /** applyChange stores a product unless the stored copy is as new or newer; true when it did. */
    async applyChange(product) {
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
      // Statements on the database commit on their own: the change is there for every reader.
      if (applied !== undefined) recent.remember(product)
      return applied !== undefined
    },
  }
}

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

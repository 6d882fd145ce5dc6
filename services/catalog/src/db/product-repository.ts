import { sql } from 'kysely'
import type { Executor } from '@microshop/platform/db/store'
import type { CatalogRepositories } from '../domain/catalog-context.ts'
import type { CatalogTables } from './tables.ts'

/** productRepository stores products; the saga's stock moves are the reservations' statements. */
export function productRepository(db: Executor<CatalogTables>): CatalogRepositories['products'] {
  return {
    find: (id) => db.selectFrom('products').selectAll().where('id', '=', id).executeTakeFirst(),

    list(options) {
      let select = db.selectFrom('products').selectAll()
      if (options.query) {
        const pattern = `%${escapeLike(options.query)}%`
        select = select.where((eb) =>
          eb.or([
            eb('name', 'ilike', pattern),
            eb('sku', 'ilike', pattern),
            eb('description', 'ilike', pattern),
          ]),
        )
      }
      if (options.afterSku !== undefined) select = select.where('sku', '>', options.afterSku)
      return select.orderBy('sku').limit(options.limit).execute()
    },

    insert: (product) =>
      db
        .insertInto('products')
        .values({ ...product, stockReserved: 0 })
        .onConflict((oc) => oc.expression(sql`lower(sku)`).doNothing())
        .returningAll()
        .executeTakeFirst(),

    async skuTaken(sku, exceptId) {
      let select = db
        .selectFrom('products')
        .select('id')
        .where(sql<string>`lower(sku)`, '=', sku.toLowerCase())
      if (exceptId) select = select.where('id', '!=', exceptId)
      return (await select.executeTakeFirst()) !== undefined
    },

    async count() {
      const row = await db
        .selectFrom('products')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .executeTakeFirstOrThrow()
      return Number(row.count)
    },

    lock: (id) =>
      db.selectFrom('products').selectAll().where('id', '=', id).forUpdate().executeTakeFirst(),

    save: (id, changes) =>
      db
        .updateTable('products')
        .set((eb) => ({ ...changes, version: eb('version', '+', 1), updatedAt: new Date() }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow(),
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

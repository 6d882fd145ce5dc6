import { sql, type Kysely, type Transaction } from 'kysely'
import type { CatalogTables, ProductRow, ProductsTable } from './tables.ts'

type Db = Kysely<CatalogTables> | Transaction<CatalogTables>

export function findProductById(db: Db, id: string): Promise<ProductRow | undefined> {
  return db.selectFrom('products').selectAll().where('id', '=', id).executeTakeFirst()
}

/**
 * listProductRows pages through products in sku order; `afterSku` is the last sku of the
 * previous page. `query` matches sku, name or description, case-insensitively.
 */
export function listProductRows(
  db: Db,
  options: { query?: string | undefined; afterSku?: string | undefined; limit: number },
): Promise<ProductRow[]> {
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
}

export async function insertProduct(
  db: Db,
  product: Omit<ProductsTable, 'version' | 'createdAt' | 'updatedAt' | 'stockReserved'>,
): Promise<ProductRow | undefined> {
  return db
    .insertInto('products')
    .values({ ...product, stockReserved: 0 })
    .onConflict((oc) => oc.expression(sql`lower(sku)`).doNothing())
    .returningAll()
    .executeTakeFirst()
}

export function skuTaken(db: Db, sku: string, exceptId?: string): Promise<boolean> {
  let select = db
    .selectFrom('products')
    .select('id')
    .where(sql<string>`lower(sku)`, '=', sku.toLowerCase())
  if (exceptId) select = select.where('id', '!=', exceptId)
  return select.executeTakeFirst().then((row) => row !== undefined)
}

/** lockProduct reads a product FOR UPDATE, so an edit and a reservation never interleave. */
export function lockProduct(db: Transaction<CatalogTables>, id: string) {
  return db.selectFrom('products').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
}

export function saveProduct(
  db: Transaction<CatalogTables>,
  id: string,
  changes: Partial<
    Pick<ProductsTable, 'sku' | 'name' | 'description' | 'priceAmount' | 'currency' | 'stockOnHand'>
  >,
): Promise<ProductRow> {
  return db
    .updateTable('products')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1), updatedAt: new Date() }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()
}

export async function countProducts(db: Db): Promise<number> {
  const row = await db
    .selectFrom('products')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow()
  return Number(row.count)
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

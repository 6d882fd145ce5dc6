import type { Kysely } from 'kysely'
import { notFound } from '@microshop/platform/errors'
import { decodeCursor, pageFrom, type Page } from '@microshop/platform/pagination'
import { findProductById, listProductRows } from '../db/product-repository.ts'
import type { CatalogTables } from '../db/tables.ts'
import { productFromRow, type Product } from './product.ts'

export async function getProduct(db: Kysely<CatalogTables>, id: string): Promise<Product> {
  const row = await findProductById(db, id)
  if (!row) throw notFound(`No product with id ${id}.`)
  return productFromRow(row)
}

/** listProducts pages through the catalogue in sku order, optionally filtered by a search text. */
export async function listProducts(
  db: Kysely<CatalogTables>,
  options: { query?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<Page<Product>> {
  const afterSku = options.cursor ? decodeCursor(options.cursor, isSkuKey) : undefined
  const rows = await listProductRows(db, {
    query: options.query?.trim() || undefined,
    afterSku,
    limit: options.limit + 1,
  })
  return pageFrom(rows, options.limit, productFromRow, (row) => row.sku)
}

const isSkuKey = (value: unknown): value is string => typeof value === 'string'

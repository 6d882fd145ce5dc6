import { notFound } from '@microshop/platform/errors'
import { decodeCursor, pageFrom, type Page } from '@microshop/platform/pagination'
import type { CatalogContext } from './catalog-context.ts'
import { productFromRecord, type Product } from './product.ts'

export async function getProduct(ctx: CatalogContext, id: string): Promise<Product> {
  const record = await ctx.store.products.find(id)
  if (!record) throw notFound(`No product with id ${id}.`)
  return productFromRecord(record)
}

/** listProducts pages through the catalogue in sku order, optionally filtered by a search text. */
export async function listProducts(
  ctx: CatalogContext,
  options: { query?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<Page<Product>> {
  const afterSku = options.cursor ? decodeCursor(options.cursor, isSkuKey) : undefined
  const records = await ctx.store.products.list({
    query: options.query?.trim() || undefined,
    afterSku,
    limit: options.limit + 1,
  })
  return pageFrom(records, options.limit, productFromRecord, (record) => record.sku)
}

const isSkuKey = (value: unknown): value is string => typeof value === 'string'

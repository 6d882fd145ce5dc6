import { unprocessable, type FieldError } from '@microshop/platform/errors'
import type { Money } from './order.ts'
import type { RequestedLine } from './order-request.ts'
import type { OrdersContext } from './orders-context.ts'

/** CatalogProduct is what orders keeps of a product: enough to price and describe an order line. */
export interface CatalogProduct {
  id: string
  sku: string
  name: string
  price: Money
  /** version is the catalog's; 0 for a product fetched over HTTP, so that any event replaces it. */
  version: number
}

/**
 * FetchProduct asks the catalog for one product: undefined when the catalog has no such product;
 * it throws `unavailable` when the catalog does not answer in time.
 */
export type FetchProduct = (productId: string) => Promise<CatalogProduct | undefined>

/**
 * priceLines finds the product of every line, from the read model in one query; products it has
 * not seen yet (a catalogue change whose event is still on its way) are fetched from the catalog
 * and kept. A product the catalog does not know is a 422 naming the line.
 */
export async function priceLines(
  ctx: OrdersContext,
  lines: readonly RequestedLine[],
): Promise<Map<string, CatalogProduct>> {
  const ids = lines.map((line) => line.productId)
  const products = new Map(
    (await ctx.store.catalogProducts.findMany(ids)).map((product) => [product.id, product]),
  )
  const missing = ids.filter((id) => !products.has(id))
  if (missing.length > 0) {
    const fetched = (await Promise.all(missing.map((id) => ctx.fetchProduct(id)))).filter(
      (product) => product !== undefined,
    )
    await ctx.store.catalogProducts.addMissing(fetched)
    for (const product of fetched) products.set(product.id, product)
  }

  const unknown: FieldError[] = lines
    .filter((line) => !products.has(line.productId))
    .map((line) => ({
      pointer: `/body/items/${line.index}/productId`,
      detail: 'is not a product in the catalogue',
    }))
  if (unknown.length > 0) throw unprocessable('Some products are not in the catalogue.', unknown)
  const currencies = new Set([...products.values()].map((product) => product.price.currency))
  if (currencies.size > 1) {
    throw unprocessable(
      `These products are priced in different currencies (${[...currencies].join(', ')}); order them separately.`,
    )
  }
  return products
}

/**
 * recordProductChange keeps the read model up to date from catalog.product.changed.v1. Only a
 * newer version is applied, so a redelivered or overtaken event changes nothing.
 */
export function recordProductChange(ctx: OrdersContext, product: CatalogProduct): Promise<boolean> {
  return ctx.store.catalogProducts.applyChange(product)
}

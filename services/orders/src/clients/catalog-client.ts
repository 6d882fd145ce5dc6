import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { unavailable } from '@microshop/platform/errors'
import type { CatalogProduct, FetchProduct } from '../domain/product-prices.ts'

// CatalogProductBody is the part of the catalog's `GET /products/{id}` answer that orders reads.
const CatalogProductBody = Compile(
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    sku: Type.String({ minLength: 1 }),
    name: Type.String({ minLength: 1 }),
    price: Type.Object({
      amount: Type.Integer({ minimum: 0 }),
      currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    }),
  }),
)

export interface CatalogClientOptions {
  /** baseUrl is the catalog service, e.g. http://127.0.0.1:8084. */
  baseUrl: string
  /** timeoutMs bounds the whole call, answer included. */
  timeoutMs: number
}

/**
 * catalogProductFetcher reads one product from the catalog's API, for the products orders' read
 * model has not heard of yet. Node's fetch keeps connections alive, so a burst of misses does not
 * pay a handshake each. A 404 is "no such product"; no answer in time, or a bad one, is
 * `unavailable` (503): the customer may retry, with the same idempotency key.
 */
export function catalogProductFetcher(options: CatalogClientOptions): FetchProduct {
  const base = options.baseUrl.replace(/\/+$/, '')
  return async (productId) => {
    const url = `${base}/products/${encodeURIComponent(productId)}`
    try {
      const response = await fetch(url, {
        // The trace context goes with the request through the fetch (undici) instrumentation.
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(options.timeoutMs),
      })
      if (response.status === 404) {
        await response.body?.cancel()
        return undefined
      }
      if (!response.ok) {
        await response.body?.cancel()
        throw new Error(`the catalog answered ${response.status}`)
      }
      const body: unknown = await response.json()
      if (!CatalogProductBody.Check(body) || body.id.toLowerCase() !== productId) {
        throw new Error('the catalog answered an unexpected body')
      }
      const product: CatalogProduct = {
        id: body.id,
        sku: body.sku,
        name: body.name,
        price: { amount: body.price.amount, currency: body.price.currency },
        version: 0,
      }
      return product
    } catch (error) {
      const failure = unavailable('The catalogue cannot be reached to price this order; try again.')
      failure.cause = error
      throw failure
    }
  }
}

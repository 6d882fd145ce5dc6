import type { CatalogProduct } from '../domain/product-prices.ts'

/**
 * RecentPrices keeps, in this process, the products orders read from its prices read model in
 * the last `ttlMs`, so that a checkout of popular products costs no query. The read model itself
 * follows the catalogue by events, so it is already a little behind; this adds at most `ttlMs`
 * where another replica recorded the change. A change this replica records replaces its entry at
 * once, and an entry is only ever replaced by a newer version of the product, so a read that
 * raced a change never brings an older price back. `ttlMs` 0 keeps nothing.
 *
 * An entry whose time is up is not answered, but stays until it is read again: the read that a
 * checkout has to make anyway takes every such entry along (`expired`), so the memory is renewed
 * by one query per `ttlMs` instead of one per product.
 */
export class RecentPrices {
  // In the order they were kept, oldest first: the entries whose time is up come first.
  private readonly products = new Map<string, { product: CatalogProduct; until: number }>()

  constructor(
    private readonly ttlMs: number,
    private readonly capacity = 10_000,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** get answers the product if it was read or changed within the last ttlMs. */
  get(id: string): CatalogProduct | undefined {
    const entry = this.products.get(id)
    if (!entry || entry.until <= this.clock()) return undefined
    return entry.product
  }

  /** expired names up to `limit` products kept whose time is up: to be read again with others. */
  expired(limit: number): string[] {
    const now = this.clock()
    const ids: string[] = []
    for (const [id, entry] of this.products) {
      if (entry.until > now || ids.length >= limit) break
      ids.push(id)
    }
    return ids
  }

  /**
   * remember keeps a product as read or changed now; where a newer version is kept already, that
   * one is kept, as of now.
   */
  remember(product: CatalogProduct): void {
    if (this.ttlMs <= 0) return
    const kept = this.products.get(product.id)
    const newest = kept && kept.product.version > product.version ? kept.product : product
    this.products.delete(product.id)
    this.products.set(product.id, { product: newest, until: this.clock() + this.ttlMs })
    if (this.products.size > this.capacity) {
      const oldest = this.products.keys().next()
      if (!oldest.done) this.products.delete(oldest.value)
    }
  }

  /** forget drops a product: read again, it was not there. */
  forget(id: string): void {
    this.products.delete(id)
  }
}

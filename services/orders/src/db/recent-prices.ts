import type { CatalogProduct } from '../domain/product-prices.ts'

/**
 * RecentPrices keeps, in this process, the products orders read from its prices read model in
 * the last `ttlMs`, so that a checkout of popular products costs no query. The read model itself
 * follows the catalogue by events, so it is already a little behind; this adds at most `ttlMs`
 * where another replica recorded the change. A change this replica records replaces its entry at
 * once, and an entry is only ever replaced by a newer version of the product, so a read that
 * raced a change never brings an older price back. `ttlMs` 0 keeps nothing.
 */
export class RecentPrices {
  private readonly products = new Map<string, { product: CatalogProduct; until: number }>()

  constructor(
    private readonly ttlMs: number,
    private readonly capacity = 10_000,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** get answers the product if it was read or changed within the last ttlMs. */
  get(id: string): CatalogProduct | undefined {
    const entry = this.products.get(id)
    if (!entry) return undefined
    if (entry.until <= this.clock()) {
      this.products.delete(id)
      return undefined
    }
    return entry.product
  }

  /** remember keeps a product as read or changed now, unless a newer version is kept already. */
  remember(product: CatalogProduct): void {
    if (this.ttlMs <= 0) return
    const kept = this.products.get(product.id)
    if (kept && kept.product.version > product.version) return
    this.products.delete(product.id)
    this.products.set(product.id, { product, until: this.clock() + this.ttlMs })
    if (this.products.size > this.capacity) {
      const oldest = this.products.keys().next()
      if (!oldest.done) this.products.delete(oldest.value)
    }
  }
}

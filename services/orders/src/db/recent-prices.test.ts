import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from '@microshop/platform/testing/databases'
import { waitFor } from '@microshop/platform/testing/wait-for'
import type { OrdersContext } from '../domain/orders-context.ts'
import { priceLines, recordProductChange, type CatalogProduct } from '../domain/product-prices.ts'
import { openOrdersReplicas, type OrdersReplicas } from '../testing/orders-context.ts'
import { RecentPrices } from './recent-prices.ts'

const product = (version: number, amount: number): CatalogProduct => ({
  id: 'a-product',
  sku: 'SKU-1',
  name: 'Thing',
  price: { amount, currency: 'USD' },
  version,
})

describe('RecentPrices', () => {
  let now = 0
  const clock = () => now

  it('when a product was kept less than the time to keep it, then it is answered; after, it is not', () => {
    const prices = new RecentPrices(1_000, 10, clock)
    prices.remember(product(1, 100))
    now += 999
    expect(prices.get('a-product')?.price.amount).toBe(100)
    now += 1
    expect(prices.get('a-product')).toBeUndefined()
  })

  it('when products are kept past their time, then they are named for renewal, oldest first, and no longer once renewed', () => {
    const prices = new RecentPrices(1_000, 10, clock)
    for (const id of ['one', 'two', 'three']) {
      prices.remember({ ...product(1, 100), id })
      now += 100
    }
    expect(prices.expired(10)).toEqual([])
    now += 850
    expect(prices.expired(10)).toEqual(['one', 'two'])
    expect(prices.expired(1)).toEqual(['one'])
    prices.remember({ ...product(2, 200), id: 'one' })
    expect(prices.expired(10)).toEqual(['two'])
    prices.forget('two')
    expect(prices.expired(10)).toEqual([])
    expect(prices.get('one')?.price.amount).toBe(200)
  })

  it('when an older version comes after a newer one, then the newer one stays', () => {
    const prices = new RecentPrices(1_000, 10, clock)
    prices.remember(product(3, 300))
    prices.remember(product(2, 200))
    expect(prices.get('a-product')).toEqual(product(3, 300))
    prices.remember(product(4, 400))
    expect(prices.get('a-product')).toEqual(product(4, 400))
  })

  it('when the time to keep is 0, then nothing is kept', () => {
    const prices = new RecentPrices(0, 10, clock)
    prices.remember(product(1, 100))
    expect(prices.get('a-product')).toBeUndefined()
  })

  it('when more products come than it holds, then the least recently kept is forgotten', () => {
    const prices = new RecentPrices(1_000, 2, clock)
    for (const id of ['one', 'two', 'three']) prices.remember({ ...product(1, 100), id })
    expect(prices.get('one')).toBeUndefined()
    expect(prices.get('two')).toBeDefined()
    expect(prices.get('three')).toBeDefined()
  })
})

describe.each(databaseKinds)('prices from the read model, two replicas, on %s', (kind) => {
  let testDb: TestDatabase
  let shop: OrdersReplicas
  let pricing: OrdersContext
  let changing: OrdersContext

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    shop = await openOrdersReplicas(testDb)
    ;[pricing, changing] = shop.replicas
  })

  afterAll(async () => {
    await shop?.close()
    await testDb?.drop()
  })

  const priceOf = async (ctx: OrdersContext, id: string) =>
    (await priceLines(ctx, [{ index: 0, productId: id, quantity: 1 }])).get(id)?.price.amount

  it('when the replica that prices records a change, then its next order has the new price', async () => {
    const id = randomUUID()
    await recordProductChange(pricing, { ...product(1, 100), id })
    expect(await priceOf(pricing, id)).toBe(100)
    await recordProductChange(pricing, { ...product(2, 250), id })
    expect(await priceOf(pricing, id)).toBe(250)
  })

  it('when another replica records a change, then orders here get the new price once its copy is older than RECENT_PRICES_MS', async () => {
    const id = randomUUID()
    await recordProductChange(changing, { ...product(1, 100), id })
    expect(await priceOf(pricing, id)).toBe(100)
    await recordProductChange(changing, { ...product(2, 250), id })
    expect(await priceOf(changing, id)).toBe(250)
    await waitFor(async () => (await priceOf(pricing, id)) === 250)
  })

  it('when an older change arrives late, then no replica goes back to its price', async () => {
    const id = randomUUID()
    await recordProductChange(changing, { ...product(5, 500), id })
    expect(await priceOf(pricing, id)).toBe(500)
    expect(await recordProductChange(pricing, { ...product(4, 400), id })).toBe(false)
    expect(await priceOf(pricing, id)).toBe(500)
    expect(await priceOf(changing, id)).toBe(500)
  })
})

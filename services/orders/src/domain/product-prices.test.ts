import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { productChanged } from '@microshop/contracts/catalog-events'
import { databaseKinds } from '@microshop/platform/testing/databases'
import {
  startOrdersHarness,
  type Customer,
  type OrderBody,
  type OrdersHarness,
} from '../testing/orders-harness.ts'
import { waitFor } from '@microshop/platform/testing/wait-for'

interface CatalogStub {
  url: string
  products: Map<string, { sku: string; name: string; amount: number }>
  /** requests are the paths asked for, in order. */
  requests: string[]
  /** slowIds are products the stub answers for only after half a minute. */
  slowIds: Set<string>
  brokenIds: Set<string>
  close(): Promise<void>
}

/** startCatalogStub serves `GET /products/{id}` the way the catalog does, over real HTTP. */
async function startCatalogStub(): Promise<CatalogStub> {
  const products = new Map<string, { sku: string; name: string; amount: number }>()
  const requests: string[] = []
  const slowIds = new Set<string>()
  const brokenIds = new Set<string>()
  const server: Server = createServer((request, response) => {
    const path = request.url ?? ''
    requests.push(path)
    const id = /^\/products\/([0-9a-f-]{36})$/.exec(path)?.[1] ?? ''
    const product = products.get(id)
    const answer = () => {
      if (brokenIds.has(id)) response.writeHead(500).end('{}')
      else if (!product) {
        response
          .writeHead(404, { 'content-type': 'application/problem+json' })
          .end(JSON.stringify({ type: '/problems/not-found', status: 404 }))
      } else {
        response.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id,
            sku: product.sku,
            name: product.name,
            description: '',
            price: { amount: product.amount, currency: 'USD' },
            stock: { available: 5 },
            createdAt: new Date().toISOString(),
            updatedAt: new Date().toISOString(),
          }),
        )
      }
    }
    if (slowIds.has(id)) setTimeout(answer, 30_000).unref()
    else answer()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    products,
    requests,
    slowIds,
    brokenIds,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

describe.each(databaseKinds)(
  'pricing orders from the read model and the catalog, on %s',
  (kind) => {
    let catalog: CatalogStub
    let harness: OrdersHarness
    let customer: Customer

    beforeAll(async () => {
      catalog = await startCatalogStub()
      harness = await startOrdersHarness(kind, {
        CATALOG_URL: catalog.url,
        CATALOG_TIMEOUT_MS: '300',
      })
      customer = await harness.signIn()
    })
    afterAll(async () => {
      await harness.close()
      await catalog.close()
    })

    const place = (items: { productId: string; quantity: number }[]) =>
      harness.service.app.inject({
        method: 'POST',
        url: '/orders',
        headers: { authorization: customer.authorization },
        payload: { items, paymentMethod: 'pm_card_visa' },
      })
    const version = async (productId: string) =>
      (
        await harness.service.database.db
          .selectFrom('catalogProducts')
          .select('version')
          .where('id', '=', productId)
          .executeTakeFirst()
      )?.version
    const catalogProduct = (amount: number) => {
      const id = randomUUID()
      catalog.products.set(id, { sku: `SKU-${id.slice(0, 8)}`, name: 'Fetched thing', amount })
      return id
    }

    it('when the catalog knows the product, then the order is priced from it and later orders use the kept copy', async () => {
      const id = catalogProduct(1_250)
      const first = await place([{ productId: id, quantity: 2 }])
      expect(first.statusCode).toBe(202)
      expect(first.json<OrderBody>()).toMatchObject({
        total: { amount: 2_500, currency: 'USD' },
        items: [{ productId: id, name: 'Fetched thing', unitPrice: { amount: 1_250 } }],
      })
      expect(await version(id)).toBe(0)
      const second = await place([{ productId: id, quantity: 1 }])
      expect(second.statusCode).toBe(202)
      expect(catalog.requests.filter((path) => path === `/products/${id}`)).toHaveLength(1)
    })

    it('when the catalog has no such product, then a 422 names the line and no order is made', async () => {
      const known = catalogProduct(100)
      const unknown = randomUUID()
      const response = await place([
        { productId: known, quantity: 1 },
        { productId: unknown, quantity: 1 },
      ])
      expect(response.statusCode).toBe(422)
      expect(response.json()).toMatchObject({
        type: '/problems/unprocessable-request',
        errors: [
          { pointer: '/body/items/1/productId', detail: 'is not a product in the catalogue' },
        ],
      })
      const list = await harness.service.app.inject({
        url: '/orders?limit=100',
        headers: { authorization: customer.authorization },
      })
      const ids = list
        .json<{ items: OrderBody[] }>()
        .items.flatMap((o) => o.items.map((i) => i.productId))
      expect(ids).not.toContain(unknown)
    })

    it('when the catalog is too slow or fails, then it is a 503 within the timeout', async () => {
      const slow = catalogProduct(100)
      catalog.slowIds.add(slow)
      const started = Date.now()
      const response = await place([{ productId: slow, quantity: 1 }])
      expect(response.statusCode).toBe(503)
      // The timeout gave up on the catalog: its answer would have taken half a minute.
      expect(Date.now() - started).toBeLessThan(20_000)

      const broken = catalogProduct(100)
      catalog.brokenIds.add(broken)
      expect((await place([{ productId: broken, quantity: 1 }])).statusCode).toBe(503)
    })

    it('when the catalog then publishes the product, then its event replaces the fetched copy', async () => {
      const id = catalogProduct(700)
      expect((await place([{ productId: id, quantity: 1 }])).statusCode).toBe(202)
      await harness.publish(productChanged, {
        productId: id,
        sku: 'SKU-EVENT',
        name: 'Thing from the event',
        price: { amount: 650, currency: 'USD' },
        available: 3,
        version: 1,
      })
      await waitFor(async () => (await version(id)) === 1)
      const response = await place([{ productId: id, quantity: 1 }])
      expect(response.json<OrderBody>()).toMatchObject({
        total: { amount: 650 },
        items: [{ sku: 'SKU-EVENT', name: 'Thing from the event' }],
      })
    })

    it('when an older change arrives after a newer one, then the newer price stays', async () => {
      const id = randomUUID()
      const change = (version: number, amount: number) =>
        harness.publish(productChanged, {
          productId: id,
          sku: 'SKU-ORDER',
          name: 'Versioned thing',
          price: { amount, currency: 'USD' },
          available: 3,
          version,
        })
      await change(3, 300)
      await waitFor(async () => (await version(id)) === 3)
      const handled = await harness.handled(productChanged.type)
      await change(2, 200)
      await waitFor(async () => (await harness.handled(productChanged.type)) > handled)
      expect(await version(id)).toBe(3)
      const response = await place([{ productId: id, quantity: 1 }])
      expect(response.json<OrderBody>().total.amount).toBe(300)
    })
  },
)

// When the database restarts (a minor upgrade, a failover), a service must ride it out: no exit,
// readiness false while the database is away and true once it is back, 503 + Retry-After (never
// 500) to requests meanwhile, and every event that arrived during the outage handled once it is
// back, none parked as a dead letter.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { orderPlaced } from '@microshop/contracts/orders-events'
import { InProcessBroker, InProcessEventBus } from '@microshop/platform/events/in-process-event-bus'
import { newEvent } from '@microshop/platform/events/new-event'
import { createLogger } from '@microshop/platform/logger'
import {
  postgresServerAvailable,
  startOwnPostgresServer,
  type OwnPostgresServer,
} from '@microshop/platform/testing/postgres-server'
import { waitFor } from '@microshop/platform/testing/wait-for'
import { loadCatalogConfig } from '../../services/catalog/src/config.ts'
import { startCatalogService, type CatalogService } from '../../services/catalog/src/service.ts'

const logger = createLogger({ service: 'fault-test', level: 'silent' })

describe.skipIf(!postgresServerAvailable)('a service whose database restarts', () => {
  let server: OwnPostgresServer
  let catalog: CatalogService
  let orders: InProcessEventBus
  let baseUrl: string
  let databaseUrl: string

  beforeAll(async () => {
    server = await startOwnPostgresServer()
    const admin = new pg.Client(server.adminUrl)
    await admin.connect()
    await admin.query('create database catalog')
    await admin.end()
    databaseUrl = server.adminUrl.replace(/\/postgres$/, '/catalog')
    const broker = new InProcessBroker()
    catalog = await startCatalogService(
      loadCatalogConfig({
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'silent',
        DATABASE_URL: databaseUrl,
        SEED_DEMO_DATA: 'true',
      }),
      { broker },
    )
    const address = catalog.app.server.address()
    if (typeof address !== 'object' || !address) throw new Error('catalog is not listening')
    baseUrl = `http://127.0.0.1:${address.port}`
    orders = new InProcessEventBus({ broker, logger })
  })

  afterAll(async () => {
    await orders?.close()
    await catalog?.close()
    await server?.dispose()
  })

  const get = async (path: string) => {
    const response = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(30_000) })
    await response.arrayBuffer()
    return response
  }

  it.each(['fast', 'immediate'] as const)(
    'when Postgres restarts (%s), then the service stays up, answers 503 meanwhile, and handles every event once it is back',
    async (mode) => {
      const products = (await (await fetch(`${baseUrl}/products?limit=1`)).json()) as {
        items: { id: string }[]
      }
      const productId = products.items[0]?.id as string
      expect((await get('/health/ready')).status).toBe(200)

      await server.stop(mode)
      await waitFor(async () => (await get('/health/ready')).status === 503)
      const during = await get('/products')
      expect(during.status).toBe(503)
      expect(Number(during.headers.get('retry-after'))).toBeGreaterThan(0)
      // Events keep coming while the database is away.
      const placed = Array.from({ length: 5 }, () => randomUUID())
      for (const orderId of placed) {
        await orders.publish(
          newEvent(orderPlaced, {
            orderId,
            userId: randomUUID(),
            lines: [{ productId, quantity: 1 }],
            total: { amount: 100, currency: 'USD' },
            placedAt: new Date().toISOString(),
          }),
        )
      }
      // Longer than the events' whole retry budget (about 8 s): waiting out an outage must not
      // use it up.
      await sleep(10_000)
      await server.start()

      await waitFor(async () => (await get('/health/ready')).status === 200, 60_000)
      expect((await get('/products')).status).toBe(200)
      const client = new pg.Client(databaseUrl)
      await client.connect()
      try {
        await waitFor(async () => {
          const { rows } = await client.query<{ n: number }>(
            'select count(*)::int as n from stock_reservations where order_id = any($1)',
            [placed],
          )
          return rows[0]?.n === placed.length
        }, 60_000)
        const { rows } = await client.query<{ n: number }>(
          'select count(*)::int as n from dead_letters',
        )
        expect(rows[0]?.n).toBe(0)
      } finally {
        await client.end()
      }
    },
    180_000,
  )
})

import { randomUUID } from 'node:crypto'
import { waitFor } from '@microshop/platform/testing/wait-for'
import { sql } from 'kysely'
import type { Static, TSchema } from 'typebox'
import { productChanged } from '@microshop/contracts/catalog-events'
import type { EventDefinition } from '@microshop/contracts/define-event'
import type { CloudEvent } from '@microshop/contracts/envelope'
import { ordersEvents } from '@microshop/contracts/orders-events'
import type { Role } from '@microshop/platform/auth/access-token-verifier'
import type { EnvSource } from '@microshop/platform/config'
import { InProcessBroker, InProcessEventBus } from '@microshop/platform/events/in-process-event-bus'
import { newEvent } from '@microshop/platform/events/new-event'
import { createLogger } from '@microshop/platform/logger'
import { createMetrics, type Metrics } from '@microshop/platform/metrics'
import {
  createTestDatabase,
  type DatabaseKind,
  type TestDatabase,
} from '@microshop/platform/testing/databases'
import {
  startTestTokenIssuer,
  type TestTokenIssuer,
} from '@microshop/platform/testing/token-issuer'
import { loadOrdersConfig } from '../config.ts'
import { startOrdersService, type OrdersService } from '../service.ts'

/** OrderBody is an order as the API returns it, for tests to read. */
export interface OrderBody {
  id: string
  userId: string
  status: string
  items: {
    productId: string
    sku: string
    name: string
    unitPrice: { amount: number; currency: string }
    quantity: number
    lineTotal: { amount: number; currency: string }
  }[]
  total: { amount: number; currency: string }
  paymentId: string | null
  statusHistory: { status: string; at: string; reason: string | null }[]
  createdAt: string
  updatedAt: string
}

/** Customer is a signed-in test user. */
export interface Customer {
  userId: string
  authorization: string
}

/**
 * OrdersHarness runs the real orders service (its database of the given kind, the in-process
 * bus, a real token issuer) and lets a test play the other services: `peer` publishes catalog and
 * payments events into the same broker, and `emitted` collects every event orders publishes.
 */
export interface OrdersHarness {
  service: OrdersService
  peer: InProcessEventBus
  emitted: CloudEvent[]
  /** advanceClock moves the service's clock forward, e.g. past a step deadline. */
  advanceClock(ms: number): void
  signIn(role?: Role): Promise<Customer>
  /** addProduct tells orders about a product as the catalog would, and waits until it is known. */
  addProduct(product: {
    sku: string
    amount: number
    name?: string
    version?: number
  }): Promise<string>
  /** publish sends an event as the catalog or payments would. */
  publish<Payload extends TSchema>(
    definition: EventDefinition<Payload>,
    data: Static<Payload>,
    id?: string,
  ): Promise<CloudEvent>
  /** handled counts the events of a type that orders' consumers finished (acked). */
  handled(type: string): Promise<number>
  emittedFor(orderId: string, type?: string): CloudEvent[]
  /** outboxed counts the events of a type orders committed for an order, once all are published. */
  outboxed(orderId: string, type: string): Promise<number>
  close(): Promise<void>
}

export async function startOrdersHarness(
  kind: DatabaseKind,
  env: EnvSource = {},
): Promise<OrdersHarness> {
  const testDb: TestDatabase = await createTestDatabase(kind)
  const issuer: TestTokenIssuer = await startTestTokenIssuer()
  // A zero de-duplication window lets a test redeliver an event id, as JetStream does after its
  // window or on a lost ack, so the inbox is what stops it.
  const broker = new InProcessBroker({ duplicateWindowMs: 0 })
  const logger = createLogger({
    service: 'orders-test',
    level: process.env.TEST_LOG_LEVEL ?? 'silent',
  })
  const metrics: Metrics = createMetrics('orders')
  let clockOffsetMs = 0
  const service = await startOrdersService(
    loadOrdersConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: testDb.url,
      DATA_DIR: testDb.dataDir,
      JWKS_URL: issuer.jwksUrl,
      // Nothing listens here unless a test says otherwise: a read model miss is a 503.
      CATALOG_URL: 'http://127.0.0.1:9',
      SAGA_SWEEP_INTERVAL_MS: '20',
      SAGA_SWEEP_START_DELAY_MS: '0',
      ...env,
    }),
    { logger, metrics, broker, now: () => new Date(Date.now() + clockOffsetMs) },
  )
  const peer = new InProcessEventBus({ broker, logger })
  const emitted: CloudEvent[] = []
  for (const definition of ordersEvents as readonly EventDefinition[]) {
    await peer.subscribe({
      service: 'observer',
      event: definition,
      handler: async (event) => void emitted.push(event),
    })
  }

  const harness: OrdersHarness = {
    service,
    peer,
    emitted,
    advanceClock(ms) {
      clockOffsetMs += ms
    },
    async signIn(role = 'customer') {
      const userId = randomUUID()
      return { userId, authorization: `Bearer ${await issuer.tokenFor(role, userId)}` }
    },
    async addProduct({ sku, amount, name = `Product ${sku}`, version = 1 }) {
      const productId = randomUUID()
      await harness.publish(productChanged, {
        productId,
        sku,
        name,
        price: { amount, currency: 'USD' },
        available: 100,
        version,
      })
      await waitFor(async () => {
        const row = await service.database.db
          .selectFrom('catalogProducts')
          .select('id')
          .where('id', '=', productId)
          .executeTakeFirst()
        return row !== undefined
      })
      return productId
    },
    async publish(definition, data, id) {
      const { orderId, productId } = data as { orderId?: string; productId?: string }
      const event = newEvent(definition, data, {
        subject: orderId ?? productId,
        ...(id === undefined ? {} : { id }),
      })
      await peer.publish(event)
      return event
    },
    async handled(type) {
      const metric = await metrics.registry.getSingleMetric('events_consumed_total')?.get()
      return (metric?.values ?? [])
        .filter((value) => value.labels.type === type)
        .reduce((sum, value) => sum + value.value, 0)
    },
    emittedFor(orderId, type) {
      return emitted.filter(
        (event) => event.subject === orderId && (type === undefined || event.type === type),
      )
    },
    async outboxed(orderId, type) {
      // Published rows leave the outbox: once it is empty, everything committed has gone out;
      // once the observer has as many events as orders published, it has seen all of them.
      const outboxEmpty = async () => {
        const { rows } = await sql<{ count: number }>`
          select count(*)::int as count from outbox`.execute(service.database.db)
        return rows[0]?.count === 0
      }
      const published = async () => {
        const metric = await metrics.registry.getSingleMetric('events_published_total')?.get()
        return (metric?.values ?? []).reduce((sum, value) => sum + value.value, 0)
      }
      await waitFor(async () => (await outboxEmpty()) && emitted.length === (await published()))
      return harness.emittedFor(orderId, type).length
    },
    async close() {
      await peer.close()
      await service.close()
      await issuer.close()
      await testDb.drop()
    },
  }
  return harness
}

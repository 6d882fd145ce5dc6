import { fileURLToPath } from 'node:url'
import { bearerAuthFromJwks } from '@microshop/platform/auth/bearer-auth'
import { openServiceDatabase } from '@microshop/platform/db/database'
import { migrate } from '@microshop/platform/db/migrate'
import { connectEventBus } from '@microshop/platform/events/connect-event-bus'
import type { EventBus } from '@microshop/platform/events/event-bus'
import type { InProcessBroker } from '@microshop/platform/events/in-process-event-bus'
import { startOutboxRelay, type OutboxRelay } from '@microshop/platform/events/outbox'
import { platformMigrations } from '@microshop/platform/events/platform-migrations'
import { createHttpApp, type HttpApp } from '@microshop/platform/http/app'
import { registerHealthRoutes } from '@microshop/platform/http/health'
import { createLogger, type Logger } from '@microshop/platform/logger'
import { createMetrics, type Metrics } from '@microshop/platform/metrics'
import type { CatalogConfig } from './config.ts'
import type { CatalogTables } from './db/tables.ts'
import { startReservationExpiry } from './domain/reservation-expiry.ts'
import { seedDemoCatalogue } from './domain/seed-demo-catalogue.ts'
import { registerProductRoutes } from './http/product-routes.ts'
import { subscribeToOrderCancelled } from './messaging/order-cancelled.ts'
import { subscribeToOrderConfirmed } from './messaging/order-confirmed.ts'
import { subscribeToOrderPlaced } from './messaging/order-placed.ts'
import { subscribeToOrderRejected } from './messaging/order-rejected.ts'

export interface CatalogServiceDeps {
  logger?: Logger
  metrics?: Metrics
  /** broker is the all-in-one process's in-process broker, used when NATS_URL is not set. */
  broker?: InProcessBroker
}

export interface CatalogService {
  app: HttpApp
  close: () => Promise<void>
}

/**
 * startCatalogService runs the catalog: its database with migrations applied, the demo
 * catalogue on first start when asked, the saga's stock steps (reserve, commit, release, expire)
 * fed by orders' events, the outbox relay, and the products API on HOST:PORT. close() stops in
 * reverse: HTTP, expiry, relay, consumers (bus), database.
 */
export async function startCatalogService(
  config: CatalogConfig,
  deps: CatalogServiceDeps = {},
): Promise<CatalogService> {
  const logger = deps.logger ?? createLogger({ service: 'catalog', level: config.LOG_LEVEL })
  const metrics = deps.metrics ?? createMetrics('catalog')
  const database = await openServiceDatabase<CatalogTables>('catalog', config)
  let app: HttpApp | undefined
  let bus: EventBus | undefined
  let relay: OutboxRelay | undefined
  let expiry: { stop: () => Promise<void> } | undefined
  const close = async () => {
    await app?.close()
    await expiry?.stop()
    // The relay stops before the bus it publishes on; what consumers add meanwhile waits in the outbox.
    await relay?.stop()
    await bus?.close()
    await database.close()
  }
  try {
    await migrate(database, [
      platformMigrations,
      { name: 'catalog', directory: fileURLToPath(new URL('../migrations', import.meta.url)) },
    ])
    bus = await connectEventBus({
      service: 'catalog',
      natsUrl: config.NATS_URL,
      natsNamespace: config.NATS_NAMESPACE,
      broker: deps.broker,
      database,
      logger,
      metrics,
    })
    relay = await startOutboxRelay({ database, bus, logger, metrics })
    if (config.SEED_DEMO_DATA) {
      const seeded = await seedDemoCatalogue(database.db)
      if (seeded > 0) logger.info({ products: seeded }, 'demo catalogue loaded')
    }
    const auth = bearerAuthFromJwks(config)
    await subscribeToOrderPlaced(bus, database, config.RESERVATION_TTL_SECONDS)
    await subscribeToOrderConfirmed(bus, database)
    await subscribeToOrderRejected(bus, database)
    await subscribeToOrderCancelled(bus, database)
    expiry = startReservationExpiry(
      database,
      logger,
      Math.min(10_000, (config.RESERVATION_TTL_SECONDS * 1000) / 4),
    )
    app = await createHttpApp({
      service: 'catalog',
      logger,
      metrics,
      openapi: {
        title: 'microshop catalog',
        description: 'Products, prices and stock.',
      },
    })
    const eventBus = bus
    registerHealthRoutes(app, { database: () => database.ping(), bus: () => eventBus.ping() })
    registerProductRoutes(app, database.db, auth)
    await app.listen({ host: config.HOST, port: config.PORT })
    return { app, close }
  } catch (error) {
    await close()
    throw error
  }
}

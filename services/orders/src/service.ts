import { fileURLToPath } from 'node:url'
import { bearerAuthFromJwks } from '@microshop/platform/auth/bearer-auth'
import { openServiceDatabase, type Database } from '@microshop/platform/db/database'
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
import { catalogProductFetcher } from './clients/catalog-client.ts'
import type { OrdersConfig } from './config.ts'
import { ordersStore } from './db/orders-store.ts'
import type { OrdersTables } from './db/tables.ts'
import { forgetOldRecords } from './domain/forget-old-records.ts'
import type { OrdersContext } from './domain/orders-context.ts'
import { rejectOverdueOrders } from './domain/reject-overdue-orders.ts'
import { registerOrderRoutes } from './http/order-routes.ts'
import { subscribeConsumers } from './messaging/subscriptions.ts'
import { startPeriodicJob, type PeriodicJob } from './periodic-job.ts'

export interface OrdersServiceDeps {
  logger?: Logger
  metrics?: Metrics
  /** broker is the all-in-one process's in-process broker, used when NATS_URL is not set. */
  broker?: InProcessBroker
  /** now is the clock of the use cases and the deadline sweeper; tests move it. */
  now?: () => Date
}

export interface OrdersService {
  app: HttpApp
  /** database is the service's own, for tests and tools that look inside. */
  database: Database<OrdersTables>
  close: () => Promise<void>
}

const SWEEP_BATCH = 100
const MAINTENANCE_INTERVAL_MS = 3_600_000

/**
 * startOrdersService runs the orders service: its database with migrations applied, its event
 * bus (NATS JetStream at NATS_URL, else the given in-process broker), the outbox relay, the
 * saga's consumers, the sweeper that rejects orders past their step deadline, the pruning of
 * old records, and the orders API on HOST:PORT. close() stops them in reverse order.
 */
export async function startOrdersService(
  config: OrdersConfig,
  deps: OrdersServiceDeps = {},
): Promise<OrdersService> {
  const logger = deps.logger ?? createLogger({ service: 'orders', level: config.LOG_LEVEL })
  const metrics = deps.metrics ?? createMetrics('orders')
  // Without a bus the saga cannot run: say so before opening anything.
  if (config.NATS_URL === undefined && deps.broker === undefined) {
    throw new Error(
      'orders needs an event bus: set NATS_URL, or run it in the all-in-one process (npm start).',
    )
  }
  const database = await openServiceDatabase<OrdersTables>('orders', config)
  let bus: EventBus | undefined
  let relay: OutboxRelay | undefined
  let app: HttpApp | undefined
  const jobs: PeriodicJob[] = []
  const close = async () => {
    await app?.close()
    await Promise.all(jobs.map((job) => job.stop()))
    await relay?.stop()
    await bus?.close()
    await database.close()
  }
  try {
    await migrate(database, [
      platformMigrations,
      { name: 'orders', directory: fileURLToPath(new URL('../migrations', import.meta.url)) },
    ])
    bus = await connectEventBus({
      service: 'orders',
      natsUrl: config.NATS_URL,
      natsNamespace: config.NATS_NAMESPACE,
      broker: deps.broker,
      database,
      logger,
      metrics,
    })
    relay = await startOutboxRelay({ database, bus, logger, metrics })

    const ctx: OrdersContext = {
      store: ordersStore(database),
      fetchProduct: catalogProductFetcher({
        baseUrl: config.CATALOG_URL,
        timeoutMs: config.CATALOG_TIMEOUT_MS,
      }),
      settings: {
        stockStepTimeoutMs: config.STOCK_STEP_TIMEOUT_MS,
        paymentStepTimeoutMs: config.PAYMENT_STEP_TIMEOUT_MS,
        idempotencyKeyRetentionMs: config.IDEMPOTENCY_KEY_RETENTION_HOURS * 3_600_000,
      },
      logger,
      now: deps.now ?? (() => new Date()),
    }
    await subscribeConsumers(bus, ctx)
    jobs.push(
      startPeriodicJob({
        name: 'reject-overdue-orders',
        intervalMs: config.SAGA_SWEEP_INTERVAL_MS,
        firstRunAfterMs: config.SAGA_SWEEP_START_DELAY_MS,
        logger,
        run: async () => ({ more: (await rejectOverdueOrders(ctx, SWEEP_BATCH)) === SWEEP_BATCH }),
      }),
      startPeriodicJob({
        name: 'forget-old-records',
        intervalMs: MAINTENANCE_INTERVAL_MS,
        logger,
        run: async () => {
          const forgotten = await forgetOldRecords(ctx)
          logger.debug(forgotten, 'old idempotency keys and inbox entries pruned')
          return { more: false }
        },
      }),
    )

    app = await createHttpApp({
      service: 'orders',
      logger,
      metrics,
      openapi: {
        title: 'microshop orders',
        description: 'Orders, order history and the checkout saga.',
      },
    })
    const activeBus = bus
    registerHealthRoutes(app, {
      database: () => database.ping(),
      bus: () => activeBus.ping(),
    })
    const auth = bearerAuthFromJwks(config)
    registerOrderRoutes(app, ctx, auth, {
      publicBasePath: config.PUBLIC_BASE_PATH === '/' ? '' : config.PUBLIC_BASE_PATH,
    })
    await app.listen({ host: config.HOST, port: config.PORT })
    return { app, database, close }
  } catch (error) {
    await close()
    throw error
  }
}

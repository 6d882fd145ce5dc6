import { fileURLToPath } from 'node:url'
import { bearerAuthFromJwks } from '@microshop/platform/auth/bearer-auth'
import { openServiceDatabase } from '@microshop/platform/db/database'
import { migrate, type MigrationSource } from '@microshop/platform/db/migrate'
import { connectEventBus } from '@microshop/platform/events/connect-event-bus'
import type { EventBus } from '@microshop/platform/events/event-bus'
import type { InProcessBroker } from '@microshop/platform/events/in-process-event-bus'
import { startOutboxRelay, type OutboxRelay } from '@microshop/platform/events/outbox'
import { platformMigrations } from '@microshop/platform/events/platform-migrations'
import { createHttpApp, type HttpApp } from '@microshop/platform/http/app'
import { registerHealthRoutes } from '@microshop/platform/http/health'
import { createLogger, type Logger } from '@microshop/platform/logger'
import { createMetrics, type Metrics } from '@microshop/platform/metrics'
import type { PaymentsConfig } from './config.ts'
import type { PaymentsTables } from './db/tables.ts'
import { startPaymentReconciler } from './domain/reconcile-payments.ts'
import type { PaymentsDeps } from './domain/settle-payment.ts'
import { registerPaymentRoutes } from './http/payment-routes.ts'
import { subscribeToOrderCancelled } from './messaging/order-cancelled.ts'
import { subscribeToOrderRejected } from './messaging/order-rejected.ts'
import { subscribeToPaymentRequested } from './messaging/payment-requested.ts'
import type { PaymentProcessor } from './processor/payment-processor.ts'
import { SimulatedProcessor } from './processor/simulated-processor.ts'

export interface PaymentsServiceDeps {
  logger?: Logger
  metrics?: Metrics
  /** broker is the all-in-one process's in-process broker, used when NATS_URL is not set. */
  broker?: InProcessBroker
  /** processor replaces the built-in simulated processor (and then its tables are not created). */
  processor?: PaymentProcessor
}

export interface PaymentsService {
  app: HttpApp
  close: () => Promise<void>
}

const paymentsMigrations: MigrationSource = {
  name: 'payments',
  directory: fileURLToPath(new URL('../migrations', import.meta.url)),
}

// The simulated processor's tables have their own migration history: they belong to the
// stand-in for an external system, not to payments.
const simulatedProcessorMigrations: MigrationSource = {
  name: 'simulated-processor',
  directory: fileURLToPath(new URL('../migrations/simulated-processor', import.meta.url)),
}

/**
 * startPaymentsService runs payments: its database with migrations applied, the saga's payment
 * step (charge on `payment.requested`, void or refund on `order.cancelled` / `order.rejected`)
 * against the card processor, the outbox relay, the reconciler of payments left unsettled, and
 * the payments API on HOST:PORT. close() stops in reverse: HTTP, reconciler, relay, consumers
 * (bus), database.
 */
export async function startPaymentsService(
  config: PaymentsConfig,
  deps: PaymentsServiceDeps = {},
): Promise<PaymentsService> {
  const logger = deps.logger ?? createLogger({ service: 'payments', level: config.LOG_LEVEL })
  const metrics = deps.metrics ?? createMetrics('payments')
  const database = await openServiceDatabase<PaymentsTables>('payments', config)
  let app: HttpApp | undefined
  let bus: EventBus | undefined
  let relay: OutboxRelay | undefined
  let reconciler: { stop: () => Promise<void> } | undefined
  const close = async () => {
    await app?.close()
    await reconciler?.stop()
    // The relay stops before the bus it publishes on; what consumers add meanwhile waits in the outbox.
    await relay?.stop()
    await bus?.close()
    await database.close()
  }
  try {
    await migrate(database, [
      platformMigrations,
      paymentsMigrations,
      ...(deps.processor ? [] : [simulatedProcessorMigrations]),
    ])
    const processor =
      deps.processor ??
      SimulatedProcessor.in(database, {
        latencyMs: config.PROCESSOR_LATENCY_MS,
        transientFailureRate: config.PROCESSOR_TRANSIENT_FAILURE_RATE,
      })
    const payments: PaymentsDeps = { database, processor, logger }
    bus = await connectEventBus({
      service: 'payments',
      natsUrl: config.NATS_URL,
      natsNamespace: config.NATS_NAMESPACE,
      broker: deps.broker,
      database,
      logger,
      metrics,
    })
    relay = await startOutboxRelay({ database, bus, logger, metrics })
    const retry = {
      maxAttempts: config.PROCESSOR_MAX_ATTEMPTS,
      backoffMs: config.PROCESSOR_RETRY_BACKOFF_MS,
    }
    await subscribeToPaymentRequested(bus, payments, retry)
    await subscribeToOrderCancelled(bus, payments, retry)
    await subscribeToOrderRejected(bus, payments, retry)
    reconciler = startPaymentReconciler(payments, {
      staleAfterMs: config.PAYMENT_RECONCILE_AFTER_MS,
      intervalMs: Math.min(10_000, config.PAYMENT_RECONCILE_AFTER_MS / 4),
    })

    const auth = bearerAuthFromJwks(config)
    app = await createHttpApp({
      service: 'payments',
      logger,
      metrics,
      openapi: {
        title: 'microshop payments',
        description: 'Payments of orders: their status, failure reason and refunds.',
      },
    })
    const eventBus = bus
    registerHealthRoutes(app, { database: () => database.ping(), bus: () => eventBus.ping() })
    registerPaymentRoutes(app, database.db, auth)
    await app.listen({ host: config.HOST, port: config.PORT })
    return { app, close }
  } catch (error) {
    await close()
    throw error
  }
}

import { fileURLToPath } from 'node:url'
import { bearerAuthFromJwks } from '@microshop/platform/auth/bearer-auth'
import { registerDeadLetterRoutes } from '@microshop/platform/http/dead-letter-routes'
import { pruneInboxJob } from '@microshop/platform/events/inbox'
import { startBackendService } from '@microshop/platform/backend-runtime'
import type { ServiceDeps } from '@microshop/platform/service-runtime'
import type { PaymentsConfig } from './config.ts'
import { paymentsRepositories } from './db/payments-repositories.ts'
import type { PaymentsTables } from './db/tables.ts'
import type { PaymentsContext } from './domain/payments-context.ts'
import { RECONCILE_BATCH, reconcilePayments } from './domain/reconcile-payments.ts'
import { registerPaymentRoutes } from './http/payment-routes.ts'
import { paymentsSubscriptions } from './messaging/subscriptions.ts'
import type { PaymentProcessor } from './processor/payment-processor.ts'
import { SimulatedProcessor } from './processor/simulated-processor.ts'
import { Counter, type Registry } from 'prom-client'
import type { PaymentStatus } from './domain/payment.ts'

// The simulated processor's tables have their own migration history: they belong to the
// stand-in for an external system, not to payments. (A path relative to this file holds in the
// bundle too, which sits one folder below the service's root like src/ does.)
export const simulatedProcessorMigrations = {
  name: 'simulated-processor',
  directory: fileURLToPath(new URL('../migrations/simulated-processor', import.meta.url)),
}

export interface PaymentsServiceDeps extends ServiceDeps {
  /** processor replaces the built-in simulated processor (and then its tables are not created). */
  processor?: PaymentProcessor
}

/**
 * startPaymentsService runs payments: the saga's payment step (charge on `payment.requested`,
 * void or refund on `order.cancelled` / `order.rejected`) against the card processor, the
 * reconciler of payments left unsettled, and the payments API.
 */
export function startPaymentsService(config: PaymentsConfig, deps: PaymentsServiceDeps = {}) {
  return startBackendService('payments', config, deps, async (runtime) => {
    const database = await runtime.openDatabase<PaymentsTables>({
      migrations: new URL('../migrations', import.meta.url),
      events: true,
      more: deps.processor ? [] : [simulatedProcessorMigrations],
    })
    const bus = await runtime.connectEventBus(database)
    const ctx: PaymentsContext = {
      store: runtime.createStore(database, paymentsRepositories),
      processor:
        deps.processor ??
        SimulatedProcessor.in(database, {
          latencyMs: config.PROCESSOR_LATENCY_MS,
          transientFailureRate: config.PROCESSOR_TRANSIENT_FAILURE_RATE,
        }),
      settings: { reconcileAfterMs: config.PAYMENT_RECONCILE_AFTER_MS },
      logger: runtime.logger,
      now: runtime.now,
      paymentReached: paymentsCounter(runtime.metrics.registry),
    }
    const retries = {
      maxAttempts: config.PROCESSOR_MAX_ATTEMPTS,
      backoffMs: config.PROCESSOR_RETRY_BACKOFF_MS,
    }
    await runtime.subscribe(bus, paymentsSubscriptions(ctx, retries))
    const reconcileIntervalMs = Math.min(10_000, config.PAYMENT_RECONCILE_AFTER_MS / 4)
    runtime.startJob({
      name: 'reconcile-payments',
      intervalMs: reconcileIntervalMs,
      firstRunAfterMs: reconcileIntervalMs,
      run: async () => ({ more: (await reconcilePayments(ctx)) === RECONCILE_BATCH }),
    })
    runtime.startJob(pruneInboxJob(ctx.store))
    const app = await runtime.createHttpApp({
      openapi: {
        title: 'microshop payments',
        description: 'Payments of orders: their status, failure reason and refunds.',
        tags: [{ name: 'payments', description: 'The payments of orders, and why one failed.' }],
      },
    })
    const auth = bearerAuthFromJwks(config)
    registerPaymentRoutes(app, ctx, auth)
    registerDeadLetterRoutes(app, { database, subscriptions: () => runtime.subscriptions, auth })
    return { app }
  })
}

export type PaymentsService = Awaited<ReturnType<typeof startPaymentsService>>

/** paymentsCounter counts payments by the status they reach (`payments_total{status}`). */
function paymentsCounter(registry: Registry): (status: PaymentStatus) => void {
  const payments = new Counter({
    name: 'payments_total',
    help: 'Payments that reached a status (succeeded, failed, refunded), by status',
    labelNames: ['status'] as const,
    registers: [registry],
  })
  return (status) => payments.inc({ status: status.toLowerCase() })
}

import { bearerAuthFromJwks } from '@microshop/platform/auth/bearer-auth'
import { registerDeadLetterRoutes } from '@microshop/platform/http/dead-letter-routes'
import { consumptionWatermark } from '@microshop/platform/events/consumption-watermark'
import { startBackendService } from '@microshop/platform/backend-runtime'
import type { ServiceDeps } from '@microshop/platform/service-runtime'
import { catalogProductFetcher } from './clients/catalog-client.ts'
import type { OrdersConfig } from './config.ts'
import { ordersRepositories } from './db/orders-repositories.ts'
import type { OrdersTables } from './db/tables.ts'
import { CheckoutAdmission } from './domain/checkout-admission.ts'
import { sagaObserver } from './observability/saga-observer.ts'
import { forgetOldRecords } from './domain/forget-old-records.ts'
import type { OrdersContext } from './domain/orders-context.ts'
import { rejectOverdueOrders } from './domain/reject-overdue-orders.ts'
import { registerOrderRoutes } from './http/order-routes.ts'
import { ordersSubscriptions } from './messaging/subscriptions.ts'

const SWEEP_BATCH = 100
const MAINTENANCE_INTERVAL_MS = 3_600_000

/**
 * startOrdersService runs orders: the orders API, and the checkout saga it orchestrates over
 * events (the participants' answers come in through its consumers). A sweeper rejects orders
 * past their step deadline; a maintenance job forgets old idempotency keys and inbox entries.
 */
export function startOrdersService(config: OrdersConfig, deps: ServiceDeps = {}) {
  return startBackendService('orders', config, deps, async (runtime) => {
    const database = await runtime.openDatabase<OrdersTables>({
      migrations: new URL('../migrations', import.meta.url),
      events: true,
    })
    const bus = await runtime.connectEventBus(database)
    const ctx: OrdersContext = {
      store: runtime.createStore(database, ordersRepositories()),
      fetchProduct: catalogProductFetcher({
        baseUrl: config.CATALOG_URL,
        timeoutMs: config.CATALOG_TIMEOUT_MS,
      }),
      admission: new CheckoutAdmission({
        targetSagaMs: config.CHECKOUT_TARGET_SAGA_MS,
        maxInFlight: config.CHECKOUT_MAX_IN_FLIGHT,
        minInFlight: config.CHECKOUT_MIN_IN_FLIGHT,
        countIntervalMs: config.CHECKOUT_COUNT_INTERVAL_MS,
      }),
      saga: sagaObserver(runtime.metrics.registry),
      settings: {
        stockStepTimeoutMs: config.STOCK_STEP_TIMEOUT_MS,
        paymentStepTimeoutMs: config.PAYMENT_STEP_TIMEOUT_MS,
        idempotencyKeyRetentionMs: config.IDEMPOTENCY_KEY_RETENTION_HOURS * 3_600_000,
        pendingHolds: {
          maxOrders: config.CUSTOMER_MAX_PENDING_ORDERS,
          maxUnitsPerProduct: config.CUSTOMER_MAX_PENDING_UNITS,
        },
      },
      logger: runtime.logger,
      now: runtime.now,
    }
    await runtime.subscribe(bus, ordersSubscriptions(ctx))
    // A deadline is judged only once the answers published before it have been handled.
    const answered = consumptionWatermark(bus, runtime.now)
    runtime.startJob({
      name: 'reject-overdue-orders',
      intervalMs: config.SAGA_SWEEP_INTERVAL_MS,
      firstRunAfterMs: config.SAGA_SWEEP_START_DELAY_MS,
      run: async () => {
        const before = await answered()
        if (!before) return { more: false }
        return { more: (await rejectOverdueOrders(ctx, SWEEP_BATCH, before)) === SWEEP_BATCH }
      },
    })
    runtime.startJob({
      name: 'count-checkouts-in-flight',
      intervalMs: config.CHECKOUT_COUNT_INTERVAL_MS,
      run: async () => {
        ctx.admission.counted(await ctx.store.orders.countPending())
        return { more: false }
      },
    })
    runtime.startJob({
      name: 'forget-old-records',
      intervalMs: MAINTENANCE_INTERVAL_MS,
      run: async () => {
        runtime.logger.debug(await forgetOldRecords(ctx), 'old idempotency keys and inbox pruned')
        return { more: false }
      },
    })
    const app = await runtime.createHttpApp({
      openapi: {
        title: 'microshop orders',
        description: 'Orders, order history and the checkout saga.',
        tags: [{ name: 'orders', description: 'Checkout, order status and history, cancel.' }],
      },
    })
    const publicBasePath = config.PUBLIC_BASE_PATH === '/' ? '' : config.PUBLIC_BASE_PATH
    const auth = bearerAuthFromJwks(config)
    registerOrderRoutes(app, ctx, auth, { publicBasePath })
    registerDeadLetterRoutes(app, { database, subscriptions: () => runtime.subscriptions, auth })
    return { app, database }
  })
}

export type OrdersService = Awaited<ReturnType<typeof startOrdersService>>

import { bearerAuthFromJwks } from '@microshop/platform/auth/bearer-auth'
import { registerDeadLetterRoutes } from '@microshop/platform/http/dead-letter-routes'
import { pruneInboxJob } from '@microshop/platform/events/inbox'
import { startBackendService } from '@microshop/platform/backend-runtime'
import type { ServiceDeps } from '@microshop/platform/service-runtime'
import type { CatalogConfig } from './config.ts'
import { catalogRepositories } from './db/catalog-repositories.ts'
import type { CatalogTables } from './db/tables.ts'
import type { CatalogContext } from './domain/catalog-context.ts'
import { seedDemoCatalogue } from './domain/seed-demo-catalogue.ts'
import { expireReservations } from './domain/stock-reservations.ts'
import { registerProductRoutes } from './http/product-routes.ts'
import { catalogSubscriptions } from './messaging/subscriptions.ts'
import { Gauge } from 'prom-client'

const EXPIRY_BATCH = 100

/**
 * startCatalogService runs the catalog: products, prices and stock. The saga's stock steps
 * (reserve, commit, release) are fed by orders' events; a job releases reservations that
 * expired; the demo catalogue is loaded on first start when asked.
 */
export function startCatalogService(config: CatalogConfig, deps: ServiceDeps = {}) {
  return startBackendService('catalog', config, deps, async (runtime) => {
    const database = await runtime.openDatabase<CatalogTables>({
      migrations: new URL('../migrations', import.meta.url),
      events: true,
    })
    const bus = await runtime.connectEventBus(database)
    const ctx: CatalogContext = {
      store: runtime.createStore(database, catalogRepositories),
      settings: { reservationTtlSeconds: config.RESERVATION_TTL_SECONDS },
      logger: runtime.logger,
      now: runtime.now,
    }
    new Gauge({
      name: 'stock_reservations_held',
      help: 'Stock reservations holding stock now (placed orders not yet confirmed, released or expired)',
      registers: [runtime.metrics.registry],
      async collect() {
        this.set(await ctx.store.reservations.countHeld())
      },
    })
    if (config.SEED_DEMO_DATA) {
      const seeded = await seedDemoCatalogue(ctx)
      if (seeded > 0) runtime.logger.info({ products: seeded }, 'demo catalogue loaded')
    }
    await runtime.subscribe(bus, catalogSubscriptions(ctx))
    const expiryIntervalMs = Math.min(10_000, (config.RESERVATION_TTL_SECONDS * 1000) / 4)
    runtime.startJob({
      name: 'expire-reservations',
      intervalMs: expiryIntervalMs,
      firstRunAfterMs: expiryIntervalMs,
      run: async () => ({ more: (await expireReservations(ctx, EXPIRY_BATCH)) === EXPIRY_BATCH }),
    })
    runtime.startJob(pruneInboxJob(ctx.store))
    const app = await runtime.createHttpApp({
      openapi: {
        title: 'microshop catalog',
        description: 'Products, prices and stock.',
        tags: [
          { name: 'catalog', description: 'Products: browse and search; admins change them.' },
        ],
      },
    })
    const auth = bearerAuthFromJwks(config)
    registerProductRoutes(app, ctx, auth)
    registerDeadLetterRoutes(app, { database, subscriptions: () => runtime.subscriptions, auth })
    return { app }
  })
}

export type CatalogService = Awaited<ReturnType<typeof startCatalogService>>

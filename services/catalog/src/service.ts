import { fileURLToPath } from 'node:url'
import { createAccessTokenVerifier } from '@microshop/platform/auth/access-token-verifier'
import { createBearerAuth } from '@microshop/platform/auth/bearer-auth'
import { openDatabase, serviceDataDir } from '@microshop/platform/db/database'
import { migrate } from '@microshop/platform/db/migrate'
import { createHttpApp, type HttpApp } from '@microshop/platform/http/app'
import { registerHealthRoutes } from '@microshop/platform/http/health'
import { createLogger, type Logger } from '@microshop/platform/logger'
import { createMetrics, type Metrics } from '@microshop/platform/metrics'
import type { CatalogConfig } from './config.ts'
import type { CatalogTables } from './db/tables.ts'
import { seedDemoCatalogue } from './domain/seed-demo-catalogue.ts'
import { registerProductRoutes } from './http/product-routes.ts'

export interface CatalogServiceDeps {
  logger?: Logger
  metrics?: Metrics
}

export interface CatalogService {
  app: HttpApp
  close: () => Promise<void>
}

/**
 * startCatalogService runs the catalog: its database with migrations applied, the demo
 * catalogue on first start when asked, and the products API on HOST:PORT.
 */
export async function startCatalogService(
  config: CatalogConfig,
  deps: CatalogServiceDeps = {},
): Promise<CatalogService> {
  const logger = deps.logger ?? createLogger({ service: 'catalog', level: config.LOG_LEVEL })
  const database = await openDatabase<CatalogTables>({
    url: config.DATABASE_URL,
    dataDir: serviceDataDir(config.DATA_DIR, 'catalog'),
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: 'catalog',
  })
  let app: HttpApp | undefined
  const close = async () => {
    await app?.close()
    await database.close()
  }
  try {
    await migrate(database, [
      { name: 'catalog', directory: fileURLToPath(new URL('../migrations', import.meta.url)) },
    ])
    if (config.SEED_DEMO_DATA) {
      const seeded = await seedDemoCatalogue(database.db)
      if (seeded > 0) logger.info({ products: seeded }, 'demo catalogue loaded')
    }
    const auth = createBearerAuth(
      createAccessTokenVerifier({
        jwksUrl: config.JWKS_URL,
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
      }),
    )
    app = await createHttpApp({
      service: 'catalog',
      logger,
      metrics: deps.metrics ?? createMetrics('catalog'),
      openapi: {
        title: 'microshop catalog',
        description: 'Products, prices and stock.',
      },
    })
    registerHealthRoutes(app, { database: () => database.ping() })
    registerProductRoutes(app, database.db, auth)
    await app.listen({ host: config.HOST, port: config.PORT })
    return { app, close }
  } catch (error) {
    await close()
    throw error
  }
}

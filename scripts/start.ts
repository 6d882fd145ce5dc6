// start.ts (`npm start`): the whole shop on this machine with nothing installed but Node. The
// storefront at http://localhost:8080/ (built while the services start, when missing or stale),
// every service on its own port (gateway 8080, users 8081, orders 8082, payments 8083, catalog
// 8084), each with its own embedded Postgres under .data/<service>, the in-process event bus, the
// demo catalogue, and an admin account. Ctrl-C (or SIGTERM) closes everything and exits 0; the data
// stays for the next start (`rm -rf .data` to start afresh).
import { existsSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { ConfigError } from '@microshop/platform/config'
import { forgetFreshCluster } from '@microshop/platform/db/database'
import { releaseStartUpMemoryLater } from '@microshop/platform/start-up-memory'
import { startAllInOne } from './all-in-one.ts'
import { ensureStorefrontBuilt } from './storefront-build.ts'
import { stopOnSignals, DEV_ADMIN } from './stop-on-signals.ts'
import { backendServices, defaultPorts, portsInUse } from './shop-layout.ts'

const repoRoot = resolve(import.meta.dirname, '..')
const dataDir = resolve(repoRoot, process.env.DATA_DIR ?? '.data')
const adminDefaulted = !process.env.ADMIN_EMAIL && !process.env.ADMIN_PASSWORD
const ignored = ['DATABASE_URL', 'NATS_URL'].filter((key) => process.env[key])
if (ignored.length > 0) {
  console.error(
    `npm start runs embedded and ignores ${ignored.join(' and ')}; ` +
      '`npm run start:services` runs the services against Postgres and NATS.',
  )
}

// A second shop on the same ports would also open the same embedded databases, which PGlite does
// not allow: it is refused before anything is opened.
const taken = await portsInUse(defaultPorts)
if (taken.length > 0) {
  console.error(`microshop did not start: port ${taken.join(', ')} is in use (already running?)`)
  process.exit(1)
}

// The storefront is built (when missing or stale) while the services start; the gateway waits
// for it. A failed build leaves the API running and says why.
const storefront = ensureStorefrontBuilt().catch((error: unknown) => {
  console.error('the storefront was not built:', error instanceof Error ? error.message : error)
})

// performance.now() counts from the start of the process: loading the code is part of the wait.
const elapsed = () => `${(performance.now() / 1000).toFixed(1)} s`
const fresh = backendServices.filter((name) => !existsSync(join(dataDir, name)))
console.error(
  fresh.length > 0
    ? `microshop is starting: creating the embedded databases of ${fresh.join(', ')} under ` +
        `${relative(process.cwd(), dataDir) || '.'}/ (first start only), migrating and seeding them...`
    : 'microshop is starting: opening and migrating the embedded databases...',
)

// READY says what each service has done by the time it listens.
const READY = {
  users: 'ready: database migrated, admin account in place',
  catalog: 'ready: database migrated, demo catalogue in place',
  orders: 'ready: database migrated',
  payments: 'ready: database migrated',
  gateway: 'ready: storefront built, routes to the services open',
}

let shop: Awaited<ReturnType<typeof startAllInOne>>
try {
  shop = await startAllInOne({
    env: {
      SEED_DEMO_DATA: 'true',
      ...(adminDefaulted
        ? { ADMIN_EMAIL: DEV_ADMIN.email, ADMIN_PASSWORD: DEV_ADMIN.password }
        : {}),
      ...process.env,
    },
    dataDir,
    ports: defaultPorts,
    gatewayHost: process.env.HOST ?? 'localhost',
    beforeGateway: storefront,
    onReady: (name) => console.error(`  ${name.padEnd(9)} ${READY[name]} (${elapsed()})`),
  })
} catch (error) {
  console.error('microshop did not start:', error instanceof ConfigError ? error.message : error)
  process.exit(1)
}

const service = (name: string, port: number) => `  ${name.padEnd(9)} http://127.0.0.1:${port}`
console.error(
  [
    '',
    `microshop is ready (${elapsed()})`,
    '',
    `  shop      http://localhost:${defaultPorts.gateway}/      the storefront`,
    `  gateway   http://localhost:${defaultPorts.gateway}/api   the public API`,
    `  docs      http://localhost:${defaultPorts.gateway}/docs  try it from the browser`,
    service('users', defaultPorts.users),
    service('orders', defaultPorts.orders),
    service('payments', defaultPorts.payments),
    service('catalog', defaultPorts.catalog),
    '',
    `  data      ${relative(process.cwd(), dataDir) || '.'}/ (delete it to start afresh)`,
    ...(adminDefaulted
      ? [
          `  admin     ${DEV_ADMIN.email} / ${DEV_ADMIN.password}` +
            ' (a local default: set ADMIN_EMAIL and ADMIN_PASSWORD)',
        ]
      : []),
    '',
    'Ctrl-C stops it.',
    '',
  ].join('\n'),
)

stopOnSignals(() => shop.close(), 'closing the gateway, then the services...')
// The databases exist: what made them is not needed again.
forgetFreshCluster()
releaseStartUpMemoryLater()

// start-services.ts (`npm run start:services`): the shop as separate processes on real
// infrastructure, the mode the chaos drills and the benchmark use. It creates each service's
// database and role on POSTGRES_ADMIN_URL (as `npm run db:create` does), then starts every
// service as its own Node process against its DATABASE_URL and NATS_URL (default
// nats://127.0.0.1:4222), the gateway last. Their JSON logs go to stdout as they are. Ctrl-C (or
// SIGTERM) stops the gateway, then the services, and exits 0.
import { ConfigError } from '@microshop/platform/config'
import { createServiceDatabases } from './service-databases.ts'
import { ensureStorefrontBuilt } from './storefront-build.ts'
import { startServiceProcesses, type Runtime } from './service-processes.ts'
import { stopOnSignals, DEV_ADMIN } from './stop-on-signals.ts'
import { defaultPorts } from './shop-layout.ts'

const adminUrl = process.env.POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
const runtime = (process.env.SERVICE_RUNTIME ?? 'auto') as Runtime
const adminDefaulted = !process.env.ADMIN_EMAIL && !process.env.ADMIN_PASSWORD
if (!['auto', 'bundle', 'source'].includes(runtime)) {
  console.error('SERVICE_RUNTIME must be auto, bundle or source')
  process.exit(1)
}

let shop: Awaited<ReturnType<typeof startServiceProcesses>>
try {
  // The gateway process serves services/web/dist: it is built, when missing or stale, meanwhile.
  const [databaseUrls] = await Promise.all([
    createServiceDatabases({ adminUrl }),
    ensureStorefrontBuilt().catch((error: unknown) => {
      console.error('the storefront was not built:', error instanceof Error ? error.message : error)
    }),
  ])
  shop = await startServiceProcesses({
    ports: defaultPorts,
    databaseUrls,
    natsUrl,
    natsNamespace: process.env.NATS_NAMESPACE,
    env: {
      SEED_DEMO_DATA: 'true',
      ...(adminDefaulted
        ? { ADMIN_EMAIL: DEV_ADMIN.email, ADMIN_PASSWORD: DEV_ADMIN.password }
        : {}),
      ...process.env,
    },
    runtime,
    onExit: (_service, description) => console.error(`${description}; the others keep running`),
  })
} catch (error) {
  console.error('microshop did not start:', error instanceof ConfigError ? error.message : error)
  process.exit(1)
}

// performance.now() counts from the start of the process: loading the code is part of the wait.
const seconds = (performance.now() / 1000).toFixed(1)
console.error(
  [
    '',
    `microshop is ready as separate processes (${seconds} s), on ${new URL(adminUrl).host} and ${natsUrl}`,
    '',
    `  shop      ${shop.urls.gateway}/`,
    `  gateway   ${shop.urls.gateway}/api   docs: ${shop.urls.gateway}/docs`,
    ...(['users', 'orders', 'payments', 'catalog'] as const).map(
      (name) => `  ${name.padEnd(9)} ${shop.urls[name]}   (${shop.runtimes[name]})`,
    ),
    ...(adminDefaulted ? [`  admin     ${DEV_ADMIN.email} / ${DEV_ADMIN.password}`] : []),
    '',
    'Ctrl-C stops them.',
    '',
  ].join('\n'),
)

stopOnSignals(() => shop.close(), 'stopping the gateway, then the services...')

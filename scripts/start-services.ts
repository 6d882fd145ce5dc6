// start-services.ts (`npm run start:services`): the shop as separate processes on real
// infrastructure, the mode the chaos drills and the benchmark use. It creates each service's
// database and role on POSTGRES_ADMIN_URL (as `npm run db:create` does), then starts every
// service as its own Node process against its DATABASE_URL and NATS_URL (default
// nats://127.0.0.1:4222), the gateway last. Their JSON logs go to stdout as they are. Ctrl-C (or
// SIGTERM) stops the gateway, then the services, and exits 0.
import { ConfigError } from '@microshop/platform/config'
import { createServiceDatabases } from './service-databases.ts'
import { startServiceProcesses, type Runtime } from './service-processes.ts'
import { defaultPorts } from './shop-layout.ts'

const DEV_ADMIN = { email: 'admin@microshop.local', password: 'microshop-admin' }

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
  const databaseUrls = await createServiceDatabases({ adminUrl })
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

let closing = false
const stop = (signal: NodeJS.Signals) => {
  if (closing) return
  closing = true
  console.error(`\n${signal}: stopping the gateway, then the services...`)
  shop.close().then(
    () => {
      console.error('microshop stopped.')
      process.exit(0)
    },
    (error: unknown) => {
      console.error('microshop did not stop cleanly:', error)
      process.exit(1)
    },
  )
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)

// npm runs this under `sh -c`, which does not pass a SIGTERM sent to npm on; when the shell is
// gone this process is adopted by another, and stops the services rather than leave them running.
const parentPid = process.ppid
setInterval(() => {
  if (process.ppid !== parentPid) stop('SIGTERM')
}, 500).unref()

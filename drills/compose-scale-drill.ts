// drills/compose-scale-drill.ts (`npm run drill:compose-scale`): `docker compose up --scale
// orders=3 --scale catalog=2 --scale payments=2` works. It starts compose.yaml as a project of its
// own (the gateway and Postgres on ports Docker picks on 127.0.0.1), runs a steady mix of
// checkouts through the gateway, and checks that every order settles, that the spec's invariants
// 1-4 hold in the databases, and that each orders replica answered requests (the gateway sends
// each request to the next address Docker's DNS gives for the name). It prints what each replica
// did, and always removes the project (`down -v`). It needs the images (`docker compose build`,
// which it runs first unless DRILL_COMPOSE_BUILD=0).
import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import { composeProject, docker } from '../scripts/compose-project.ts'
import type { BackendService } from '../scripts/shop-layout.ts'
import {
  createProducts,
  Gateways,
  logIn,
  runSteadyCheckouts,
  signUpShoppers,
} from './lib/checkout-workload.ts'
import { formatReplicaWork, parseReplicaWork, type ReplicaWork } from './lib/replica-work.ts'
import { checkShopInvariants, formatInvariants, waitUntilSettled } from './lib/shop-invariants.ts'

const scale = { orders: 3, catalog: 2, payments: 2 }
const run = randomBytes(3).toString('hex')
const projectName = `microshop-scale-${run}`
const project = composeProject(projectName)
const files = ['-f', 'compose.yaml', '-f', 'drills/compose.scale.yaml']
const admin = { email: 'admin@microshop.local', password: `drill-admin-${run}` }
// The variables compose.yaml reads: ports Docker picks, no rate limits (one client address), our admin.
const env = {
  GATEWAY_PORT: '127.0.0.1:0',
  RATE_LIMIT_MAX: '0',
  AUTH_RATE_LIMIT_MAX: '0',
  // Every request comes from the drill's one address (decision 0012's per-client bound).
  CLIENT_MAX_IN_FLIGHT: '0',
  ADMIN_EMAIL: admin.email,
  ADMIN_PASSWORD: admin.password,
  LOG_LEVEL: 'warn',
}
const compose = (args: string[], timeoutMs = 300_000) =>
  project.compose([...files, ...args], { env, timeoutMs })
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`)

async function main(): Promise<number> {
  process.chdir(resolve(import.meta.dirname, '..'))
  log(
    `compose scale drill: project ${projectName}, ${Object.entries(scale)
      .map(([s, n]) => `${s}=${n}`)
      .join(' ')}`,
  )
  if (process.env.DRILL_COMPOSE_BUILD !== '0') {
    await compose(['build'], 20 * 60_000)
    log('built the images')
  }
  const started = performance.now()
  await compose([
    'up',
    '-d',
    '--no-build',
    '--wait',
    '--wait-timeout',
    '240',
    ...Object.entries(scale).flatMap(([service, replicas]) => [
      '--scale',
      `${service}=${replicas}`,
    ]),
  ])
  log(`every container healthy ${((performance.now() - started) / 1000).toFixed(1)} s after up`)
  console.log((await compose(['ps', '--format', 'table {{.Name}}\t{{.Status}}'])).trimEnd())

  const gateways = new Gateways([await project.publishedUrl('gateway', 8080)])
  const postgres = new URL(await project.publishedUrl('postgres', 5432))
  const databaseUrls = Object.fromEntries(
    (['users', 'catalog', 'orders', 'payments'] as const).map((service) => [
      service,
      `postgres://${service}:dev-only-${service}@127.0.0.1:${postgres.port}/${service}`,
    ]),
  ) as Record<BackendService, string>
  try {
    const token = await logIn(gateways, admin.email, admin.password)
    const plentiful = await createProducts(
      gateways,
      token,
      `${run}-p`,
      Array<number>(6).fill(100_000),
    )
    const scarce = await createProducts(gateways, token, `${run}-s`, [8, 8])
    const shoppers = await signUpShoppers(gateways, run, 8)
    log('steady load: 10 checkouts/s for 30 s (paid, declined, out of stock, replayed)')
    const steady = await runSteadyCheckouts({
      gateways,
      shoppers,
      plentiful,
      scarce,
      ratePerSecond: 10,
      durationMs: 30_000,
      replayEvery: 10,
      giveUpAfterMs: 60_000,
    })
    const pending = await waitUntilSettled(databaseUrls.orders, 120_000)
    const work = await containerWork()
    // The demo catalogue's products are in the database too: only the drill's own are counted.
    const rows = await checkShopInvariants(databaseUrls, {
      checkouts: steady.checkouts,
      products: [...plentiful, ...scarce],
    })
    console.log(`\nwork per replica, from each container's /metrics:\n${formatReplicaWork(work)}`)
    console.log(`\ninvariants, read from each service's database:\n${formatInvariants(rows)}`)
    const restarted = await restartedContainers()
    const ordersReplicas = work.filter((row) => row.instance.startsWith('orders-'))
    const checks = [
      ...rows.map((row) => ({ name: row.invariant, ok: row.violations.length === 0 })),
      {
        name: 'every checkout accepted, every order settled',
        ok:
          pending === 0 && steady.checkouts.every((c) => c.orderId) && steady.failures.length === 0,
      },
      {
        // A replica that exits and is restarted can be healthy again by the end: count restarts.
        name: `no container exited and was restarted${restarted.length ? ` (${restarted.join(', ')})` : ''}`,
        ok: restarted.length === 0,
      },
      {
        name: `each of the ${scale.orders} orders replicas answered requests`,
        ok:
          ordersReplicas.length === scale.orders && ordersReplicas.every((row) => row.requests > 0),
      },
    ]
    for (const check of checks.filter((c) => !c.ok)) console.log(`failed: ${check.name}`)
    const gaveUp = steady.checkouts.filter((checkout) => !checkout.orderId)
    for (const failure of [
      ...steady.failures,
      ...gaveUp.map((c) => `checkout: ${c.failure}`),
    ].slice(0, 5)) {
      console.log(`  ${failure}`)
    }
    if (pending > 0) console.log(`  ${pending} orders still PENDING`)
    const failed = checks.filter((check) => !check.ok).length
    console.log(`\ncompose scale drill: ${checks.length - failed} passed, ${failed} failed`)
    return failed === 0 ? 0 : 1
  } finally {
    await gateways.close()
  }
}

/** restartedContainers names the project's containers that Docker restarted, with how often. */
async function restartedContainers(): Promise<string[]> {
  const ids = (await compose(['ps', '-aq'])).trim().split('\n').filter(Boolean)
  const restarted: string[] = []
  for (const id of ids) {
    const [name = id, count = '0'] = (
      await docker(['inspect', '-f', '{{.Name}} {{.RestartCount}}', id])
    )
      .trim()
      .split(' ')
    if (count !== '0') restarted.push(`${name.replace(/^\//, '')} ${count}x`)
  }
  return restarted
}

/** containerWork reads each backend container's /metrics from inside it (nothing else is published). */
async function containerWork(): Promise<ReplicaWork[]> {
  const rows: ReplicaWork[] = []
  for (const [service, port] of [
    ['users', 8081],
    ['catalog', 8084],
    ['orders', 8082],
    ['payments', 8083],
    ['gateway', 8080],
  ] as const) {
    const ids = (await compose(['ps', '-q', service])).trim().split('\n').filter(Boolean)
    for (const id of ids) {
      const name = (await docker(['inspect', '-f', '{{.Name}}', id])).trim().replace(/^\//, '')
      const text = await docker([
        'exec',
        id,
        'node',
        '-e',
        `fetch('http://127.0.0.1:${port}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`,
      ])
      rows.push(parseReplicaWork(name.replace(`${projectName}-`, ''), text))
    }
  }
  return rows
}

async function down(): Promise<void> {
  await compose(['down', '-v', '--remove-orphans'], 180_000).catch((error: unknown) =>
    log(`down failed: ${String(error)}`),
  )
  log(`removed the ${projectName} project`)
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: removing the project`)
    void down().finally(() => process.exit(130))
  })
}
process.exitCode = await main()
  .catch(async (error: unknown) => {
    console.error('compose scale drill failed:', error)
    console.log((await compose(['ps', '-a']).catch(() => '')).trimEnd())
    // The services log at warn: what a container said before it exited is in its last lines.
    console.log((await compose(['logs', '--no-color', '--tail', '20']).catch(() => '')).trimEnd())
    return 1
  })
  .finally(down)

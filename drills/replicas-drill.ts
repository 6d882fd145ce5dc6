// drills/replicas-drill.ts (`npm run drill:replicas`): every service runs correctly as several
// replicas. The shop runs as separate processes on the machine's Postgres and NATS, in databases
// and a NATS namespace of the run's own, which it removes at the end. Three steps:
//   1. one replica of each service: confirmed checkouts/s at capacity (a closed loop of shoppers)
//      and CPU per checkout, which names the busiest service;
//   2. three replicas of the busiest one: the same measure, so a bigger machine shows the slope;
//   3. 2-3 replicas of every service behind two gateways, a steady mix of checkouts (paid,
//      declined, out of stock, replayed with their key), and one replica of each service killed
//      with SIGKILL mid-run and started again. Then every order must settle, and the spec's
//      invariants 1-4 must hold in the databases themselves.
// It prints the figures and an invariant table, and exits 1 on any violation. Figures are
// printed, never asserted: on 2 shared cores more replicas cannot add much throughput.
import { randomBytes } from 'node:crypto'
import { cpus } from 'node:os'

import { setTimeout as sleep } from 'node:timers/promises'
import { deleteStreamsOf } from '@microshop/platform/testing/nats-server'
import { watchSettlementOverNats, type SettlementWatch } from '../bench/order-settlement.ts'
import {
  CpuMeter,
  natsServerProcesses,
  postgresProcesses,
  procAvailable,
} from '../bench/process-stats.ts'
import { createServiceDatabases, dropServiceDatabases } from '../scripts/service-databases.ts'
import type { ServiceName } from '../scripts/shop-layout.ts'
import { generateSigningKey } from '../services/users/src/signing-keys.ts'
import {
  createProducts,
  Gateways,
  logIn,
  runClosedLoop,
  runSteadyCheckouts,
  signUpShoppers,
  type Checkout,
  type Product,
  type Shopper,
  type SteadyCheckouts,
} from './lib/checkout-workload.ts'
import {
  serviceNames,
  startServiceInstances,
  unplannedExits,
  type Replicas,
  type ServiceInstances,
} from './lib/service-instances.ts'
import { checkShopInvariants, formatInvariants, waitUntilSettled } from './lib/shop-invariants.ts'
import { buildBundles } from '../scripts/build-bundles.ts'
import { formatReplicaWork, replicaWork } from './lib/replica-work.ts'

const adminUrl = process.env.POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
const seconds = (name: string, fallback: number) => Number(process.env[name] ?? fallback) * 1000

/** settings bound the drill to a few minutes on 2 cores; each can be raised on a bigger machine. */
const settings = {
  concurrency: Number(process.env.DRILL_CONCURRENCY ?? 32),
  warmUpMs: seconds('DRILL_WARM_UP_S', 5),
  measureMs: seconds('DRILL_MEASURE_S', 20),
  loadMs: seconds('DRILL_LOAD_S', 45),
  settleWithinMs: seconds('DRILL_SETTLE_S', 120),
  scaledReplicas: Number(process.env.DRILL_REPLICAS ?? 3),
}
const faultReplicas: Replicas = { gateway: 2, users: 2, catalog: 2, orders: 3, payments: 2 }
const one: Replicas = { gateway: 1, users: 1, catalog: 1, orders: 1, payments: 1 }
/** kills: at these seconds of the steady load, one replica of each service is killed (SIGKILL). */
const kills: [number, ServiceName, number][] = [
  [6, 'orders', 1],
  [13, 'payments', 0],
  [20, 'catalog', 1],
  [27, 'users', 1],
  [34, 'gateway', 1],
]
const restartAfterMs = 2_000

const run = randomBytes(3).toString('hex')
const prefix = `drill_${run}_`
const namespace = `drill${run}`
const admin = { email: `drill-admin-${run}@microshop.local`, password: `drill-admin-${run}` }
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`)

interface Measure {
  label: string
  replicas: Replicas
  confirmedPerSecond: number
  confirmed: number
  cpuSeconds: Record<string, number>
}

let cleanUp: (() => Promise<void>) | undefined

async function main(): Promise<number> {
  log(
    `replicas drill ${run}: Postgres ${new URL(adminUrl).host} (databases ${prefix}*), NATS ${natsUrl} (namespace ${namespace}), ${cpus().length} cores`,
  )
  await buildBundles()
  log('built the bundles')
  const databaseUrls = await createServiceDatabases({ adminUrl, prefix })
  const env = {
    PATH: process.env.PATH ?? '',
    LOG_LEVEL: 'warn',
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    // Every users replica signs with the same keys: one is never made per process.
    JWT_SIGNING_KEYS: JSON.stringify({ keys: [await generateSigningKey()] }),
    ACCESS_TOKEN_TTL_SECONDS: '3600',
    RATE_LIMIT_MAX: '0',
    AUTH_RATE_LIMIT_MAX: '0',
    // Every request comes from the drill's one address (decision 0012's per-client bound).
    CLIENT_MAX_IN_FLIGHT: '0',
  }
  let shop: ServiceInstances | undefined
  let settlement: SettlementWatch | undefined
  const all: Checkout[] = []
  const crashes: string[] = []
  const start = async (replicas: Replicas) => {
    const started = performance.now()
    shop = await startServiceInstances({
      replicas,
      databaseUrls,
      natsUrl,
      natsNamespace: namespace,
      env,
      onExit: unplannedExits(crashes, log),
    })
    log(
      `started ${describe(replicas)} (${Math.round(performance.now() - started)} ms to all ready)`,
    )
    return { shop, gateways: new Gateways(shop.gatewayUrls) }
  }
  const stop = async (gateways: Gateways) => {
    await gateways.close()
    await shop?.close()
    shop = undefined
  }

  cleanUp = async () => {
    await shop?.close().catch(() => undefined)
    await settlement?.close().catch(() => undefined)
    await dropServiceDatabases({ adminUrl, prefix }).catch((error: unknown) =>
      log(`could not drop the databases: ${String(error)}`),
    )
    await deleteStreamsOf(natsUrl, namespace).catch((error: unknown) =>
      log(`could not delete the streams: ${String(error)}`),
    )
    log("removed the run's databases, roles and streams")
  }
  try {
    settlement = await watchSettlementOverNats(natsUrl, namespace)

    // Step 1: one replica of each.
    let { shop: current, gateways } = await start(one)
    const adminToken = await logIn(gateways, admin.email, admin.password)
    const plentiful = await createProducts(
      gateways,
      adminToken,
      `${run}-p`,
      Array<number>(12).fill(1_000_000),
    )
    const scarce = await createProducts(gateways, adminToken, `${run}-s`, [12, 12, 12])
    const shoppers = await signUpShoppers(gateways, run, 24)
    log(`made ${plentiful.length + scarce.length} products and ${shoppers.length} shoppers`)
    const single = await measure(
      '1 replica of each',
      one,
      current,
      gateways,
      settlement,
      shoppers,
      plentiful,
      all,
    )
    await stop(gateways)
    const busiest = busiestService(single)
    log(
      `busiest service: ${busiest} (${perCheckoutMs(single, busiest).toFixed(2)} ms CPU per confirmed checkout)`,
    )

    // Step 2: N replicas of the busiest.
    const scaled: Replicas = { ...one, [busiest]: settings.scaledReplicas }
    ;({ shop: current, gateways } = await start(scaled))
    const many = await measure(
      `${settings.scaledReplicas} replicas of ${busiest}`,
      scaled,
      current,
      gateways,
      settlement,
      shoppers,
      plentiful,
      all,
    )
    await stop(gateways)

    // Step 3: replicas of everything, steady mixed load, one replica of each killed.
    ;({ shop: current, gateways } = await start(faultReplicas))
    const rate = Math.max(
      5,
      Math.min(40, Math.round(0.4 * Math.min(single.confirmedPerSecond, many.confirmedPerSecond))),
    )
    log(
      `steady load: ${rate} checkouts/s for ${settings.loadMs / 1000} s (13/20 paid, 3/20 declined, 4/20 for scarce stock), every 10th replayed; kills at ${kills.map(([at]) => `${at}s`).join(', ')}`,
    )
    const faults: Promise<void>[] = []
    const instances = current
    const steady = await runSteadyCheckouts({
      gateways,
      shoppers,
      plentiful,
      scarce,
      ratePerSecond: rate,
      durationMs: settings.loadMs,
      replayEvery: 10,
      giveUpAfterMs: 60_000,
      at: (second) => {
        for (const [at, service, index] of kills) {
          if (at === second) faults.push(killAndRestart(instances, service, index).then(log))
        }
      },
    })
    all.push(...steady.checkouts)
    await Promise.all(faults)
    const placedAt = performance.now()
    const pending = await waitUntilSettled(databaseUrls.orders, settings.settleWithinMs)
    log(
      pending === 0
        ? `every order settled ${((performance.now() - placedAt) / 1000).toFixed(1)} s after the last checkout`
        : `${pending} orders still PENDING after ${settings.settleWithinMs / 1000} s`,
    )
    const work = await replicaWork(current.instances)
    await stop(gateways)

    const rows = await checkShopInvariants(databaseUrls, {
      checkouts: all,
      products: [...plentiful, ...scarce],
    })
    const outcomes = await orderOutcomes(databaseUrls.orders)
    printReport({ single, many, busiest, steady, rate, outcomes, crashes })
    console.log(
      `\nwork per replica in the last step, from each one's /metrics (since its last start; the killed ones restarted mid-run):\n${formatReplicaWork(work)}`,
    )
    console.log(`\ninvariants, read from each service's database:\n${formatInvariants(rows)}`)
    const gaveUp = steady.checkouts.filter((checkout) => !checkout.orderId)
    const checks = [
      ...rows.map((row) => row.violations.length === 0),
      gaveUp.length === 0 && steady.failures.length === 0 && crashes.length === 0 && pending === 0,
    ]
    if (steady.failures.length > 0) {
      console.log(
        `${steady.failures.length} reads or sign-ins failed: ${steady.failures.slice(0, 3).join('; ')}`,
      )
    }
    if (gaveUp.length > 0) {
      console.log(
        `${gaveUp.length} checkouts never got their 202: ${gaveUp
          .slice(0, 3)
          .map((c) => c.failure)
          .join('; ')}`,
      )
    }
    const failed = checks.filter((ok) => !ok).length
    console.log(`\nreplicas drill: ${checks.length - failed} passed, ${failed} failed`)
    return failed === 0 ? 0 : 1
  } finally {
    await cleanUp()
  }
}

async function measure(
  label: string,
  replicas: Replicas,
  shop: ServiceInstances,
  gateways: Gateways,
  settlement: SettlementWatch,
  shoppers: Shopper[],
  products: Product[],
  all: Checkout[],
): Promise<Measure> {
  const meter = new CpuMeter([
    ...serviceNames.map((service) => ({ name: service, pids: () => shop.pids(service) })),
    postgresProcesses(prefix),
    natsServerProcesses(),
  ])
  let cpuSeconds: Record<string, number> = {}
  const result = await runClosedLoop({
    gateways,
    settlement,
    shoppers,
    products,
    concurrency: settings.concurrency,
    warmUpMs: settings.warmUpMs,
    durationMs: settings.measureMs,
    onMeasuring: () => {
      meter.start()
      return () => (cpuSeconds = meter.stop())
    },
  })
  all.push(...result.checkouts)
  log(
    `${label}: ${result.confirmedPerSecond.toFixed(1)} confirmed checkouts/s (${result.confirmed} in ${settings.measureMs / 1000} s, ${settings.concurrency} shoppers at once)`,
  )
  return {
    label,
    replicas,
    confirmedPerSecond: result.confirmedPerSecond,
    confirmed: result.confirmed,
    cpuSeconds,
  }
}

function busiestService(measured: Measure): ServiceName {
  return [...serviceNames].sort(
    (a, b) => (measured.cpuSeconds[b] ?? 0) - (measured.cpuSeconds[a] ?? 0),
  )[0] as ServiceName
}

const perCheckoutMs = (measured: Measure, group: string) =>
  measured.confirmed === 0 ? NaN : ((measured.cpuSeconds[group] ?? 0) * 1000) / measured.confirmed

async function killAndRestart(
  shop: ServiceInstances,
  service: ServiceName,
  index: number,
): Promise<string> {
  const instance = shop.of(service)[index]
  if (!instance) return `no ${service}#${index} to kill`
  const pid = instance.pid
  const killedAt = new Date().toISOString().slice(11, 19)
  await shop.stop(instance, 'SIGKILL')
  await sleep(restartAfterMs)
  const started = performance.now()
  await shop.start(instance)
  return `SIGKILL ${instance.name} (pid ${pid}) at ${killedAt}; started again ${restartAfterMs / 1000} s later, ready in ${Math.round(performance.now() - started)} ms`
}

async function orderOutcomes(ordersUrl: string): Promise<string> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: ordersUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ status: string; reason: string | null; n: string }>(
      `select status, status_history -> -1 ->> 'reason' as reason, count(*) as n
       from orders group by 1, 2 order by 1, 2`,
    )
    return rows
      .map((row) => `${row.status}${row.reason ? ` (${row.reason})` : ''} ${row.n}`)
      .join(', ')
  } finally {
    await client.end()
  }
}

function printReport(report: {
  single: Measure
  many: Measure
  busiest: ServiceName
  steady: SteadyCheckouts
  rate: number
  outcomes: string
  crashes: string[]
}) {
  const { single, many, busiest } = report
  const groups = [...serviceNames, 'postgres', 'nats-server']
  const total = (m: Measure) => groups.reduce((sum, group) => sum + (m.cpuSeconds[group] ?? 0), 0)
  const row = (m: Measure) =>
    `  ${m.label.padEnd(22)} ${m.confirmedPerSecond.toFixed(1).padStart(8)}   ${((total(m) * 1000) / Math.max(1, m.confirmed)).toFixed(2).padStart(10)}   ${((m.cpuSeconds.other ?? 0) / (settings.measureMs / 1000)).toFixed(2).padStart(5)} cores`
  console.log(
    `\nthroughput, ${settings.concurrency} shoppers checking out at once (closed loop), ${settings.measureMs / 1000} s measured after ${settings.warmUpMs / 1000} s:`,
  )
  console.log(
    `  ${'shop'.padEnd(22)} ${'confirmed/s'.padStart(8)}   ${'CPU ms/checkout'.padStart(10)}   other work on the machine`,
  )
  console.log(row(single))
  console.log(row(many))
  console.log(
    `  ratio ${busiest} x${settings.scaledReplicas} / x1: ${(many.confirmedPerSecond / single.confirmedPerSecond).toFixed(2)} on ${cpus().length} cores (CPU counts every service process, the run's Postgres backends and helpers, and the machine's nats-server)`,
  )
  console.log('\nCPU ms per confirmed checkout, by process group:')
  console.log(`  ${'group'.padEnd(12)} ${single.label.padStart(22)} ${many.label.padStart(22)}`)
  for (const group of groups) {
    console.log(
      `  ${group.padEnd(12)} ${perCheckoutMs(single, group).toFixed(2).padStart(22)} ${perCheckoutMs(many, group).toFixed(2).padStart(22)}`,
    )
  }
  const accepted = report.steady.checkouts.filter((c) => c.orderId)
  const retried = accepted.filter((c) => c.tries > 1)
  console.log(
    `\nreplicas and kills: ${describe(faultReplicas)}, ${report.rate} checkouts/s for ${settings.loadMs / 1000} s`,
  )
  console.log(
    `  checkouts offered ${report.steady.checkouts.length} (after ${report.steady.reads} product reads and ${report.steady.signIns} sign-ins), accepted ${accepted.length}, of which ${retried.length} retried with their key (a replica down), replays ${accepted.filter((c) => c.replay).length}`,
  )
  console.log(`  orders in the database (all steps): ${report.outcomes}`)
  if (report.crashes.length > 0) console.log(`  unplanned exits: ${report.crashes.join('; ')}`)
}

function describe(replicas: Replicas): string {
  return serviceNames.map((service) => `${service} x${replicas[service]}`).join(', ')
}

if (!procAvailable) console.log('(no /proc here: CPU figures are missing)')
// An interrupted drill still removes its processes, databases and streams.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`)
    void (cleanUp?.() ?? Promise.resolve()).finally(() => process.exit(130))
  })
}
process.exitCode = await main().catch((error: unknown) => {
  console.error('replicas drill failed:', error)
  return 1
})

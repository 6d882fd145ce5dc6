// drills/fault-drill.ts (`npm run drill`): the shop rides out crashes and outages. It starts a
// Postgres and a nats-server of its own (temp dirs, free ports), the five services as separate
// processes on them, each saga service reaching NATS through a TCP proxy of its own (so one can
// be cut off), and then runs one short drill per fault under a steady mix of checkouts that walks
// every path (paid, declined, transient processor errors, hot SKUs out of stock, cancels pending
// and confirmed, replays with the same and another body):
//   kill -9 of orders, of catalog, of payments, of all three at once, at random moments;
//   SIGTERM of every service under load; nats-server kill -9 and restart on its store;
//   Postgres restart fast and immediate (crash recovery); orders cut off from NATS for 20 s;
//   a burst past saturation.
// After each: every invariant of the spec, in each service's database and through the API;
// nothing left in an outbox, no JetStream consumer with pending messages, no dead letter, no
// service exit the drill did not cause, no 500 ever; each restarted service's time to ready and
// the time to settle after the fault are printed. It prints a table per drill and a summary, and
// exits 1 on any violation. `--only <name>` runs one drill (several: repeat it), `--soak` runs
// each longer with the fault repeated, `--list` names them. DRILL_SEED replays the random moments.
import { randomBytes } from 'node:crypto'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  startOwnNatsServer,
  natsServerAvailable,
  type OwnNatsServer,
} from '@microshop/platform/testing/nats-server'
import {
  postgresServerAvailable,
  startOwnPostgresServer,
  type OwnPostgresServer,
} from '@microshop/platform/testing/postgres-server'
import { createServiceDatabases } from '../scripts/service-databases.ts'
import type { BackendService, ServiceName } from '../scripts/shop-layout.ts'
import { generateSigningKey } from '../services/users/src/signing-keys.ts'
import { buildBundles } from '../scripts/build-bundles.ts'
import {
  createProducts,
  Gateways,
  logIn,
  signUpShoppers,
  type Product,
  type ResponseSeen,
  type Shopper,
} from './lib/checkout-workload.ts'
import type { EVENT_SERVICES } from './lib/fault-checks.ts'
import {
  apiRows,
  backlogRows,
  clientRows,
  deadLetterRow,
  readBacklog,
  waitUntilDrained,
  withClient,
} from './lib/fault-checks.ts'
import { runFaultWorkload, type FaultCheckout } from './lib/fault-workload.ts'
import {
  startServiceInstances,
  unplannedExits,
  type Instance,
  type ServiceInstances,
} from './lib/service-instances.ts'
import { checkShopInvariants, formatInvariants, type InvariantRow } from './lib/shop-invariants.ts'
import { startTcpProxy, type TcpProxy } from './lib/tcp-proxy.ts'

const { values: args } = parseArgs({
  options: {
    soak: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    list: { type: 'boolean', default: false },
  },
})
const seconds = (name: string, fallback: number) => Number(process.env[name] ?? fallback) * 1000

/** settings bound `npm run drill` to a few minutes on 2 cores; `--soak` stretches each drill. */
const settings = {
  ratePerSecond: Number(process.env.DRILL_RATE ?? 8),
  loadMs: seconds('DRILL_LOAD_S', args.soak ? 60 : 12),
  /** faults: how many times each drill's fault strikes during its load (soak: 3). */
  faults: args.soak ? 3 : 1,
  cutOffMs: seconds('DRILL_CUT_OFF_S', args.soak ? 45 : 20),
  // About 3x the saturation the benchmark measures on 2 cores (126 confirmed/s).
  burstRatePerSecond: Number(process.env.DRILL_BURST_RATE ?? 360),
  burstMs: seconds('DRILL_BURST_S', args.soak ? 15 : 3),
  restartAfterMs: 1_000,
  natsDownMs: 3_000,
  settleWithinMs: seconds('DRILL_SETTLE_S', 60),
  settleTargetMs: 15_000,
  readyTargetMs: 2_000,
  /** readyWithinMs: a service not ready this long after its restart (or its infrastructure's) fails the drill. */
  readyWithinMs: 30_000,
  giveUpAfterMs: 90_000,
  shoppers: 24,
  seed: Number(process.env.DRILL_SEED ?? randomBytes(4).readUInt32LE(0)),
}

const run = randomBytes(3).toString('hex')
const namespace = `drill${run}`
const admin = { email: `drill-admin-${run}@microshop.local`, password: `drill-admin-${run}` }
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`)
const random = mulberry32(settings.seed)

/** Shop is everything a drill acts on. */
interface Shop {
  postgres: OwnPostgresServer
  nats: OwnNatsServer
  proxies: Record<(typeof EVENT_SERVICES)[number], TcpProxy>
  services: ServiceInstances
  databaseUrls: Record<BackendService, string>
}

/** FaultOutcome is what a fault did: its story, the services' times to ready, and the ones that never were. */
interface FaultOutcome {
  story: string[]
  readyMs: Record<string, number>
  notReady: string[]
  /** badExits are planned stops that did not end as planned (SIGTERM must exit 0). */
  badExits: string[]
}

interface Drill {
  name: string
  fault: string
  /** loadMs is how long checkouts are offered; the fault strikes inside it. */
  loadMs: () => number
  mix?: 'full' | 'paid'
  ratePerSecond?: () => number
  /** strike runs the fault once and returns when the shop's parts are back. */
  strike?: (shop: Shop, outcome: FaultOutcome) => Promise<void>
  /** window is the part of the load (fractions) the fault strikes in. */
  window?: [number, number]
  /** once: the fault strikes once even in a soak (it is long already). */
  once?: boolean
  /** soakOnly drills run with --soak, or when named with --only. */
  soakOnly?: boolean
}

const killOf =
  (services: ServiceName[]) =>
  async (shop: Shop, outcome: FaultOutcome): Promise<void> => {
    const instances = services.map((service) => shop.services.of(service)[0] as Instance)
    await Promise.all(instances.map((instance) => shop.services.stop(instance, 'SIGKILL')))
    outcome.story.push(`SIGKILL ${services.join(', ')} at ${clock()}`)
    await sleep(settings.restartAfterMs)
    await Promise.all(instances.map((instance) => restart(shop, instance, outcome)))
  }

const drills: Drill[] = [
  ...(['orders', 'catalog', 'payments'] as const).map((service): Drill => ({
    name: `kill-${service}`,
    fault: `kill -9 ${service}, started again ${settings.restartAfterMs / 1000} s later`,
    loadMs: () => settings.loadMs,
    strike: killOf([service]),
  })),
  {
    name: 'kill-saga',
    fault: 'kill -9 orders, catalog and payments at once',
    loadMs: () => settings.loadMs,
    strike: killOf(['orders', 'catalog', 'payments']),
  },
  {
    name: 'sigterm-all',
    fault: 'SIGTERM every service under load (each must exit 0), then start them',
    loadMs: () => settings.loadMs,
    async strike(shop, outcome) {
      const all = shop.services.instances
      await Promise.all(all.map((instance) => shop.services.stop(instance, 'SIGTERM')))
      for (const instance of all) {
        if (instance.exit !== 'exited (code 0)')
          outcome.badExits.push(`${instance.name} ${instance.exit} on SIGTERM`)
      }
      outcome.story.push(
        `SIGTERM every service at ${clock()}: ${all.map((i) => `${i.name} ${i.exit}`).join(', ')}`,
      )
      await sleep(settings.restartAfterMs)
      const backends = all.filter((instance) => instance.service !== 'gateway')
      await Promise.all(backends.map((instance) => restart(shop, instance, outcome)))
      await Promise.all(
        all
          .filter((i) => i.service === 'gateway')
          .map((instance) => restart(shop, instance, outcome)),
      )
    },
  },
  {
    name: 'nats-kill',
    fault: `kill -9 nats-server, started again on its store ${settings.natsDownMs / 1000} s later`,
    loadMs: () => settings.loadMs,
    async strike(shop, outcome) {
      await shop.nats.stop('SIGKILL')
      outcome.story.push(`SIGKILL nats-server at ${clock()}`)
      await sleep(settings.natsDownMs)
      await shop.nats.start()
      outcome.story.push(`nats-server back at ${clock()}`)
      await timeToReady(shop, outcome)
    },
  },
  ...(['fast', 'immediate'] as const).map((mode): Drill => ({
    name: `postgres-${mode}`,
    fault: `pg_ctl restart -m ${mode}${mode === 'immediate' ? ' (crash recovery)' : ''}`,
    loadMs: () => settings.loadMs,
    async strike(shop, outcome) {
      const startedAt = performance.now()
      await shop.postgres.stop(mode)
      await shop.postgres.start()
      outcome.story.push(
        `Postgres restarted (-m ${mode}) at ${clock()}, down ${Math.round(performance.now() - startedAt)} ms`,
      )
      await timeToReady(shop, outcome)
    },
  })),
  ...(['orders', 'catalog', 'payments'] as const).map((service): Drill => ({
    name: `${service}-cut-off`,
    fault: `${service} cut off from NATS for ${settings.cutOffMs / 1000} s (its proxy drops every connection)`,
    // The three are alike; a short run cuts off orders (the orchestrator), a soak each.
    soakOnly: service !== 'orders',
    loadMs: () => settings.cutOffMs + 8_000,
    window: [0.1, 0.15],
    once: true,
    async strike(shop, outcome) {
      shop.proxies[service].cut()
      outcome.story.push(`${service} cut off from NATS at ${clock()}`)
      await sleep(settings.cutOffMs)
      shop.proxies[service].restore()
      outcome.story.push(`${service} let back at ${clock()}`)
      await timeToReady(shop, outcome, [service])
    },
  })),
  {
    name: 'burst',
    fault: 'a burst of paid checkouts past saturation',
    loadMs: () => settings.burstMs,
    mix: 'paid',
    ratePerSecond: () => settings.burstRatePerSecond,
  },
]

/** DrillResult is one drill's line in the summary. */
interface DrillResult {
  name: string
  checkouts: number
  outcomes: string
  settleMs: number | undefined
  readyMs: Record<string, number>
  failed: number
  /** problems name each failed row with its first violations, repeated after the summary. */
  problems: string[]
}

let cleanUp: (() => Promise<void>) | undefined

async function main(): Promise<number> {
  if (args.list) {
    for (const drill of drills)
      console.log(`${drill.name.padEnd(19)} ${drill.fault}${drill.soakOnly ? ' (--soak)' : ''}`)
    return 0
  }
  const chosen = args.only
    ? drills.filter((drill) => args.only?.includes(drill.name))
    : drills.filter((drill) => args.soak || !drill.soakOnly)
  const unknown = (args.only ?? []).filter((name) => !drills.some((drill) => drill.name === name))
  if (unknown.length > 0) {
    console.error(`no drill named ${unknown.join(', ')}; --list names them`)
    return 2
  }
  if (!postgresServerAvailable || !natsServerAvailable) {
    console.error('the fault drills need Postgres binaries (initdb, pg_ctl) and nats-server')
    return 1
  }
  const startedAt = performance.now()
  log(
    `fault drills ${run}${args.soak ? ' (soak)' : ''}: ${chosen.map((d) => d.name).join(', ')}; seed ${settings.seed}, ${cpus().length} cores`,
  )
  await buildBundles()
  const postgres = await startOwnPostgresServer()
  const nats = await startOwnNatsServer()
  const natsPort = Number(new URL(nats.url).port)
  const proxies = {
    catalog: await startTcpProxy(natsPort),
    orders: await startTcpProxy(natsPort),
    payments: await startTcpProxy(natsPort),
  }
  let services: ServiceInstances | undefined
  let gateways: Gateways | undefined
  cleanUp = async () => {
    await gateways?.close().catch(() => undefined)
    await services?.close().catch(() => undefined)
    await Promise.all(Object.values(proxies).map((proxy) => proxy.close()))
    await nats.dispose()
    await postgres.dispose()
    log('stopped the services, nats-server and Postgres, and removed their folders')
  }
  try {
    log(`Postgres at ${postgres.adminUrl}, nats-server at ${nats.url}`)
    const databaseUrls = await createServiceDatabases({ adminUrl: postgres.adminUrl })
    const unplanned: string[] = []
    const env = {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'warn',
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
      JWT_SIGNING_KEYS: JSON.stringify({ keys: [await generateSigningKey()] }),
      ACCESS_TOKEN_TTL_SECONDS: '3600',
      RATE_LIMIT_MAX: '0',
      AUTH_RATE_LIMIT_MAX: '0',
      CLIENT_MAX_IN_FLIGHT: '0',
      // A drill's streams hold minutes of events: no need to reserve a GiB of store each.
      NATS_STREAM_MAX_BYTES: String(64 * 1024 ** 2),
    }
    services = await startServiceInstances({
      replicas: { gateway: 1, users: 1, catalog: 1, orders: 1, payments: 1 },
      databaseUrls,
      natsUrl: nats.url,
      natsNamespace: namespace,
      env,
      serviceEnv: {
        catalog: { NATS_URL: proxies.catalog.url },
        orders: { NATS_URL: proxies.orders.url },
        payments: {
          NATS_URL: proxies.payments.url,
          // Some charges fail transiently and are retried; quick retries keep the drills short.
          PROCESSOR_TRANSIENT_FAILURE_RATE: '0.05',
          PROCESSOR_RETRY_BACKOFF_MS: '100,300,1000',
        },
      },
      onExit: unplannedExits(unplanned, log),
    })
    const shop: Shop = { postgres, nats, proxies, services, databaseUrls }
    let seen: ResponseSeen[] = []
    gateways = new Gateways(services.gatewayUrls, (response) => {
      seen.push({ ...response, body: response.status >= 500 ? response.body : undefined })
    })
    const adminToken = await logIn(gateways, admin.email, admin.password)
    const plentiful = await createProducts(
      gateways,
      adminToken,
      `${run}-p`,
      Array<number>(12).fill(1_000_000),
    )
    const shoppers = await signUpShoppers(gateways, run, settings.shoppers)
    log(
      `shop ready: ${plentiful.length} products, ${shoppers.length} shoppers (${seconds2(performance.now() - startedAt)} s)`,
    )

    const everyCheckout: FaultCheckout[] = []
    const everyProduct: Product[] = [...plentiful]
    const results: DrillResult[] = []
    const deadLetters = { database: new Set<string>(), api: 0, stream: 0 }
    for (const [position, drill] of chosen.entries()) {
      seen = []
      unplanned.length = 0
      const hot = await createProducts(
        gateways,
        adminToken,
        `${run}-h${position}`,
        hotStocks(drill),
      )
      everyProduct.push(...hot)
      const result = await runDrill(drill, shop, gateways, adminToken, {
        shoppers,
        plentiful,
        hot,
        everyCheckout,
        everyProduct,
        seen: () => seen,
        unplanned,
        deadLetters,
      })
      results.push(result)
    }
    printSummary(results)
    const failed = results.filter((result) => result.failed > 0)
    console.log(
      `\nfault drills: ${results.length - failed.length} passed, ${failed.length} failed${failed.length ? ` (${failed.map((r) => r.name).join(', ')})` : ''}; ${seconds2(performance.now() - startedAt)} s in all, seed ${settings.seed}`,
    )
    return failed.length === 0 ? 0 : 1
  } finally {
    await cleanUp()
  }
}

interface DrillState {
  shoppers: Shopper[]
  plentiful: Product[]
  hot: Product[]
  everyCheckout: FaultCheckout[]
  everyProduct: Product[]
  seen: () => ResponseSeen[]
  unplanned: string[]
  /** deadLetters are those earlier drills reported. */
  deadLetters: { database: Set<string>; api: number; stream: number }
}

async function runDrill(
  drill: Drill,
  shop: Shop,
  gateways: Gateways,
  adminToken: string,
  state: DrillState,
): Promise<DrillResult> {
  const loadMs = drill.loadMs()
  const rate = drill.ratePerSecond?.() ?? settings.ratePerSecond
  log(`drill ${drill.name}: ${drill.fault}; ${rate} checkouts/s for ${loadMs / 1000} s`)
  const outcome: FaultOutcome = { story: [], readyMs: {}, notReady: [], badExits: [] }
  // The fault strikes `settings.faults` times (once: once) at random moments of its slot of the load.
  const [from, to] = drill.window ?? [0.2, 0.6]
  const count = drill.strike ? (drill.once ? 1 : settings.faults) : 0
  const slot = loadMs / Math.max(1, count)
  const strikes = Array.from({ length: count }, (_, i) =>
    Math.round(i * slot + slot * (from + (to - from) * random())),
  )
  let recoveredAt = 0
  const faults = (async () => {
    const began = performance.now()
    for (const at of strikes) {
      await sleep(Math.max(0, began + at - performance.now()))
      await drill.strike?.(shop, outcome)
      recoveredAt = performance.now()
    }
  })()
  const checkouts = await runFaultWorkload({
    gateways,
    shoppers: state.shoppers,
    plentiful: state.plentiful,
    hot: state.hot,
    ratePerSecond: rate,
    durationMs: loadMs,
    giveUpAfterMs: settings.giveUpAfterMs,
    mix: drill.mix ?? 'full',
  })
  const loadEndedAt = performance.now()
  await faults
  state.everyCheckout.push(...checkouts)
  const quietFrom = Math.max(recoveredAt, loadEndedAt)
  const { backlog, drainedAt } = await waitUntilDrained(
    () => readBacklog(shop.databaseUrls, shop.nats.url, namespace),
    settings.settleWithinMs,
  )
  const settleMs = drainedAt === undefined ? undefined : Math.max(0, drainedAt - quietFrom)
  const recoveredFor = recoveredAt ? drainedAt && drainedAt - recoveredAt : undefined

  const serviceUrls = Object.fromEntries(
    shop.services.instances.map((instance) => [instance.service, instance.url]),
  )
  const seen = state.seen()
  const rows: InvariantRow[] = [
    ...(await checkShopInvariants(shop.databaseUrls, {
      checkouts: state.everyCheckout,
      products: state.everyProduct,
    })),
    ...(await clientRows(shop.databaseUrls.orders, checkouts)),
    ...(await apiRows(gateways, shop.databaseUrls.orders, shop.databaseUrls.catalog, checkouts, [
      ...state.hot,
      ...state.plentiful,
    ])),
    ...backlogRows(backlog),
    await deadLetterRow(
      shop.databaseUrls,
      serviceUrls,
      adminToken,
      shop.nats.url,
      namespace,
      state.deadLetters,
    ),
    {
      invariant: '6/7 no 500, ever (502/503/504 while a part is down); 503s say Retry-After',
      checked: seen.length,
      violations: [
        ...seen
          .filter((r) => r.status >= 500 && ![502, 503, 504].includes(r.status))
          .map((r) => `${r.method} ${r.path}: ${r.status} ${JSON.stringify(r.body)}`),
        ...seen
          .filter((r) => r.status === 503 && !r.headers['retry-after'])
          .map((r) => `${r.method} ${r.path}: 503 without Retry-After`),
      ],
    },
    {
      invariant: '7 no service exit the drill did not cause; SIGTERM exits 0',
      checked: shop.services.instances.length,
      violations: [...state.unplanned, ...outcome.badExits],
    },
    {
      invariant: `every service ready within ${settings.readyWithinMs / 1000} s of its restart`,
      checked: Object.keys(outcome.readyMs).length + outcome.notReady.length,
      violations: outcome.notReady,
    },
    {
      invariant: `1/7 settled within ${settings.settleWithinMs / 1000} s (target ${settings.settleTargetMs / 1000} s)`,
      checked: 1,
      violations: settleMs === undefined ? [`not drained: ${JSON.stringify(backlog)}`] : [],
    },
  ]

  const outcomes = await outcomesOf(shop.databaseUrls.orders, checkouts)
  const answers = countBy(seen, (r) => String(r.status))
  const refused = seen.filter(
    (r) =>
      r.method === 'POST' && r.path === '/api/orders' && (r.status === 503 || r.status === 429),
  )
  const failed = rows.filter((row) => row.violations.length > 0).length
  console.log(`\n== ${drill.name}: ${drill.fault}`)
  for (const line of outcome.story) console.log(`  ${line}`)
  console.log(
    `  checkouts ${checkouts.length} (${rate}/s for ${loadMs / 1000} s), ${checkouts.filter((c) => c.tries > 1).length} retried with their key; orders: ${outcomes}`,
  )
  console.log(
    `  answers: ${Object.entries(answers)
      .map(([s, n]) => `${s} x${n}`)
      .join(', ')}`,
  )
  if (drill.mix === 'paid') {
    const confirmed = await confirmationRate(shop.databaseUrls.orders, checkouts)
    console.log(
      `  confirmed ${confirmed.count} in ${seconds2(confirmed.spanMs)} s from the first order placed to the last confirmed: ${confirmed.perSecond.toFixed(0)}/s`,
    )
  }
  if (refused.length > 0) {
    console.log(
      `  refused at the door (503/429 on POST /api/orders): ${refused.length}, p99 ${percentile(
        refused.map((r) => r.ms),
        0.99,
      ).toFixed(0)} ms`,
    )
  }
  const ready = Object.entries(outcome.readyMs)
  if (ready.length > 0) {
    console.log(
      `  ready after restart (target ${settings.readyTargetMs} ms): ${ready.map(([name, ms]) => `${name} ${ms} ms${ms > settings.readyTargetMs ? ' (over)' : ''}`).join(', ')}`,
    )
  }
  console.log(
    settleMs === undefined
      ? `  NOT settled ${settings.settleWithinMs / 1000} s after the fault and the load ended`
      : `  settled ${seconds2(settleMs)} s after the fault and the load ended${recoveredFor !== undefined ? ` (${seconds2(recoveredFor)} s after the last fault ended)` : ''}${settleMs > settings.settleTargetMs ? ' (over the 15 s target)' : ''}`,
  )
  console.log(indent(formatInvariants(rows)))
  console.log(`  ${drill.name}: ${failed === 0 ? 'PASS' : `FAIL (${failed} rows)`}`)
  return {
    name: drill.name,
    checkouts: checkouts.length,
    outcomes,
    settleMs,
    readyMs: outcome.readyMs,
    failed,
    problems: rows
      .filter((row) => row.violations.length > 0)
      .map(
        (row) =>
          `${row.invariant}: ${row.violations.slice(0, 3).join('; ')}${row.violations.length > 3 ? ` (and ${row.violations.length - 3} more)` : ''}`,
      ),
  }
}

/** restart starts a stopped instance and records how long it took to be ready. */
async function restart(shop: Shop, instance: Instance, outcome: FaultOutcome): Promise<void> {
  const began = performance.now()
  try {
    await shop.services.start(instance)
    // The slowest of a soak's restarts is the one reported.
    const ms = Math.round(performance.now() - began)
    outcome.readyMs[instance.name] = Math.max(outcome.readyMs[instance.name] ?? 0, ms)
  } catch (error) {
    outcome.notReady.push(`${instance.name}: ${(error as Error).message.split('\n')[0]}`)
  }
}

/** timeToReady polls each service's readiness until it answers 200, after its infrastructure came back. */
async function timeToReady(shop: Shop, outcome: FaultOutcome, only?: ServiceName[]): Promise<void> {
  const began = performance.now()
  const instances = shop.services.instances.filter(
    (instance) => !only || only.includes(instance.service),
  )
  await Promise.all(
    instances.map(async (instance) => {
      for (;;) {
        const ok = await fetch(`${instance.url}/health/ready`, {
          signal: AbortSignal.timeout(1_000),
        })
          .then(async (response) => {
            await response.body?.cancel()
            return response.ok
          })
          .catch(() => false)
        const ms = Math.round(performance.now() - began)
        if (ok) {
          outcome.readyMs[instance.name] = Math.max(outcome.readyMs[instance.name] ?? 0, ms)
          return
        }
        if (ms > settings.readyWithinMs) {
          outcome.notReady.push(`${instance.name} not ready ${ms} ms after the restart`)
          return
        }
        await sleep(50)
      }
    }),
  )
}

/** hotStocks are a drill's hot products' stock: about half of the orders for them run out. */
function hotStocks(drill: Drill): number[] {
  if (drill.mix === 'paid') return []
  const rate = drill.ratePerSecond?.() ?? settings.ratePerSecond
  const hotOrders = ((rate * drill.loadMs()) / 1000) * (3 / 20)
  return Array<number>(3).fill(Math.max(1, Math.round(hotOrders / 6)))
}

async function outcomesOf(ordersUrl: string, checkouts: FaultCheckout[]): Promise<string> {
  const ids = checkouts.flatMap((checkout) => (checkout.orderId ? [checkout.orderId] : []))
  return withClient(ordersUrl, async (client) => {
    const { rows } = await client.query<{ status: string; reason: string | null; n: string }>(
      `select status, status_history -> -1 ->> 'reason' as reason, count(*) as n
       from orders where id = any($1) group by 1, 2 order by 1, 2`,
      [ids],
    )
    return rows
      .map((row) => `${row.status}${row.reason ? ` ${row.reason}` : ''} ${row.n}`)
      .join(', ')
  })
}

/** confirmationRate is how fast a drill's orders were confirmed, from the first placed to the last confirmed. */
async function confirmationRate(ordersUrl: string, checkouts: FaultCheckout[]) {
  const ids = checkouts.flatMap((checkout) => (checkout.orderId ? [checkout.orderId] : []))
  return withClient(ordersUrl, async (client) => {
    const { rows } = await client.query<{ n: string; span_ms: number | null }>(
      `select count(*) filter (where status = 'CONFIRMED') as n,
              extract(epoch from max(updated_at) filter (where status = 'CONFIRMED') - min(created_at)) * 1000 as span_ms
       from orders where id = any($1)`,
      [ids],
    )
    const count = Number(rows[0]?.n ?? 0)
    const spanMs = Number(rows[0]?.span_ms ?? 0)
    return { count, spanMs, perSecond: spanMs > 0 ? count / (spanMs / 1000) : 0 }
  })
}

function printSummary(results: DrillResult[]) {
  console.log('\nsummary')
  const header = `  ${'drill'.padEnd(16)} ${'checkouts'.padStart(9)} ${'settle s'.padStart(8)} ${'slowest ready'.padStart(22)}  result  orders`
  console.log(header)
  for (const result of results) {
    const slowest = Object.entries(result.readyMs).sort((a, b) => b[1] - a[1])[0]
    console.log(
      `  ${result.name.padEnd(16)} ${String(result.checkouts).padStart(9)} ${(result.settleMs === undefined ? 'never' : seconds2(result.settleMs)).padStart(8)} ${(slowest ? `${slowest[0]} ${slowest[1]} ms` : '-').padStart(22)}  ${(result.failed ? 'FAIL' : 'pass').padEnd(6)}  ${result.outcomes}`,
    )
  }
  // The failures again, last: a CI log that keeps only its tail still says what failed.
  for (const result of results) {
    for (const problem of result.problems) console.log(`  ${result.name} failed: ${problem}`)
  }
}

const clock = () => new Date().toISOString().slice(11, 23)
const seconds2 = (ms: number) => (ms / 1000).toFixed(1)
const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)))
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0
}

/** mulberry32 is a small seeded generator: DRILL_SEED replays a run's random moments. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

// An interrupted drill still stops its processes and removes its folders.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`)
    void (cleanUp?.() ?? Promise.resolve()).finally(() => process.exit(130))
  })
}
process.exitCode = await main().catch((error: unknown) => {
  console.error('fault drill failed:', error)
  return 1
})

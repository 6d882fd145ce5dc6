// bench/run-bench.ts (`npm run bench`, `npm run bench -- --mode embedded`): checkout throughput
// and latency through the gateway, with the machine's own ceilings measured in the same run.
// It measures the ceilings, starts a fresh shop, registers shoppers, steps the checkout arrival
// rate up until the shop stops keeping up, runs half of that rate (and 250/s, the spec's line)
// for the latency figures, measures read capacity, and prints the table, writing the JSON and the
// plot under bench/results/. Whatever it started it removes, also when it fails or is stopped.
import { mkdir, writeFile, copyFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { START_UP_SETTLE_MS } from '@microshop/platform/start-up-memory'
import pg from 'pg'
import { Pool } from 'undici'
import {
  buildFigures,
  formatStatementCosts,
  formatStepLine,
  formatTable,
  SPEC_TARGETS,
  type BenchResult,
} from './bench-report.ts'
import {
  fastifyHelloRequestsPerSecond,
  jetstreamPublishAcksPerSecond,
  postgresCommitsPerSecond,
} from './ceilings.ts'
import { ownNatsServer, sharedNatsServer, type BenchNats } from './bench-nats.ts'
import { benchResultPlotSvg } from './latency-plot.ts'
import {
  measureIdleCpu,
  runMeasuredStep,
  type MeasuredStepOptions,
  type StepReport,
} from './measured-step.ts'
import {
  watchSettlementByPolling,
  watchSettlementOverNats,
  type SettlementWatch,
} from './order-settlement.ts'
import { fixedProcess, procAvailable, rssBytes } from './process-stats.ts'
import { runReadLoad } from './read-load.ts'
import { createBenchProducts, readPaths, signUpShoppers } from './shop-setup.ts'
import {
  startEmbeddedShop,
  startSeparateShop,
  type BenchMode,
  type ShopUnderBench,
} from './shop-under-bench.ts'
import { openWorkCounters, type WorkCounters } from './work-counters.ts'
import { startOtlpSink } from './otlp-sink.ts'

const { values: args } = parseArgs({
  allowNegative: true,
  options: {
    mode: { type: 'string', default: 'separate' },
    rates: { type: 'string' },
    'step-seconds': { type: 'string', default: '10' },
    'steady-seconds': { type: 'string', default: '15' },
    'warm-up-seconds': { type: 'string', default: '2' },
    shoppers: { type: 'string', default: '100' },
    products: { type: 'string', default: '50' },
    'read-rate': { type: 'string', default: '0' },
    'overload-seconds': { type: 'string', default: '20' },
    'info-logging': { type: 'boolean', default: true },
    'nats-url': { type: 'string' },
    'cpu-prof': { type: 'string' },
    'trace-ratio': { type: 'string' },
  },
})
if (args.mode !== 'separate' && args.mode !== 'embedded') {
  console.error('--mode is separate (the default) or embedded')
  process.exit(2)
}
const mode: BenchMode = args.mode

/** IDLE_SETTLE_MS is the pause between the setup and the idle shop's CPU, so that it is at rest. */
const IDLE_SETTLE_MS = 5_000

/** DEFAULT_RATES step the offered checkouts/s up; the run stops at the first step past saturation. */
const DEFAULT_RATES: Record<BenchMode, number[]> = {
  separate: [25, 50, 75, 100, 150, 200, 250, 300, 400, 500, 600, 800, 1000],
  embedded: [25, 50, 75, 100, 150, 200],
}
const settings = {
  rates: args.rates ? args.rates.split(',').map(Number) : DEFAULT_RATES[mode],
  warmUpMs: Number(args['warm-up-seconds']) * 1000,
  stepMs: Number(args['step-seconds']) * 1000,
  steadyMs: Number(args['steady-seconds']) * 1000,
  shoppers: Number(args.shoppers),
  products: Number(args.products),
  /** readRatePerSecond are product reads beside the checkouts; 0 (the default) measures checkouts alone. */
  readRatePerSecond: Number(args['read-rate']),
  overloadMs: Number(args['overload-seconds']) * 1000,
  /** shopWarmUpMs of checkouts at the first rung's rate come before anything is measured. */
  shopWarmUpMs: 5_000,
  /** infoLogging measures half saturation again on a shop that logs at `info`, the services' default. */
  infoLogging: args['info-logging'],
  /** settleWithinMs is how long an order may take, from when it was due, before it counts as unsettled. */
  settleWithinMs: 10_000,
  clientConnections: 128,
  /** the ceilings' concurrency: the services' default database pool size, the relay's in-flight publishes. */
  postgresConcurrency: 10,
  jetstreamInFlight: 64,
  httpConnections: 32,
  ceilingSeconds: 4,
  readCapacitySeconds: 5,
  idleSeconds: 5,
  logLevel: 'warn',
  /**
   * traceRatio turns tracing on: the services sample this share of new traces and export them
   * over OTLP/HTTP to a local sink (otlp-sink.ts). Unset: no endpoint, nothing recorded.
   */
  traceRatio: args['trace-ratio'] === undefined ? null : Number(args['trace-ratio']),
  postgresAdminUrl: process.env.POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  /** natsUrl is the machine's NATS, where embedded mode measures its ceiling if it is there. */
  natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
}
if (
  settings.rates.some((rate) => !(rate > 0)) ||
  [settings.stepMs, settings.steadyMs, settings.shoppers, settings.products].some(
    (value) => !(value > 0),
  )
) {
  console.error(
    '--rates, --step-seconds, --steady-seconds, --shoppers and --products must be positive',
  )
  process.exit(2)
}

const resultsDir = join(import.meta.dirname, 'results')
const runStartedMs = performance.now()
const log = (line: string) =>
  console.error(`[bench +${((performance.now() - runStartedMs) / 1000).toFixed(1)}s] ${line}`)

// cleanups run in reverse order once, at the end or on Ctrl-C: nothing the run made is left.
const cleanups: (() => Promise<unknown>)[] = []
async function cleanUp(): Promise<void> {
  for (let cleanup = cleanups.pop(); cleanup; cleanup = cleanups.pop()) {
    await cleanup().catch((error: unknown) => log(`clean-up failed: ${String(error)}`))
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping and removing what the run made...`)
    void cleanUp().finally(() => process.exit(130))
  })
}

try {
  await main()
} catch (error) {
  console.error('the benchmark failed:', error)
  process.exitCode = 1
} finally {
  await cleanUp()
}

async function main(): Promise<void> {
  if (!procAvailable) throw new Error('the benchmark reads /proc: run it on Linux')
  const startedAt = new Date()
  const started = performance.now()
  log(`mode ${mode}; services log at LOG_LEVEL=${settings.logLevel}; ${cpus().length} cores`)
  log('this machine runs the load generator too: its CPU time is reported as bench-client')

  const nats = mode === 'separate' ? await startNats() : undefined
  log('measuring the ceilings...')
  const ceilings = await measureCeilings(nats?.url ?? settings.natsUrl)
  log(
    `ceilings: Postgres ${fmtCeiling(ceilings.postgresCommitsPerSecond)} commits/s, JetStream ` +
      `${fmtCeiling(ceilings.jetstreamPublishAcksPerSecond)} publish+acks/s, Fastify ` +
      `${fmtCeiling(ceilings.fastifyHelloRequestsPerSecond)} req/s`,
  )
  const profileDir = await prepareProfiling()
  const tracing = await prepareTracing()
  const bench = await prepareShop(nats, profileDir, tracing.env)
  // The setup's requests leave work behind (V8 optimising what they ran, collecting what they
  // left): measured at once, the idle shop read 10-15% of a core; 5 s later, ~6%.
  await setTimeout(IDLE_SETTLE_MS)
  log(`measuring the idle shop's CPU for ${settings.idleSeconds} s...`)
  const idleCpuCores = await measureIdleCpu(bench.processGroups, settings.idleSeconds * 1000)

  const steps: StepReport[] = []
  const runStep = async (kind: StepKind, rate: number, durationMs: number, drain = true) => {
    const step = await runMeasuredStep(stepOptions(bench, kind, rate, durationMs))
    steps.push(step)
    log(formatStepLine(step))
    // Let a backlog drain, so that it does not count against the next step.
    if (drain) await bench.settlement.quiet(500, step.overloadedBecause ? 30_000 : 5_000)
    return step
  }
  await warmUp(bench)
  const saturation = await findSaturation(steps, runStep)
  const halfRate = Math.round(saturation.confirmedPerSecond / 2)
  await runStep('half-saturation', halfRate, settings.steadyMs)
  // Past saturation the excess must be refused at once, and what was admitted settle: offered 3x.
  const overload = await runStep(
    'overload-3x',
    3 * saturation.confirmedPerSecond,
    settings.overloadMs,
  )
  const pendingAfterOverload = await pendingOrdersAfter(bench, overload)
  log('measuring read capacity (reads only, flat out)...')
  const readCapacity = await runReadLoad({
    gatewayUrl: bench.shop.gatewayUrl,
    paths: bench.readPaths,
    durationSeconds: settings.readCapacitySeconds,
    connections: settings.httpConnections,
  })
  // The spec's latency targets are set at 250/s: measured apart unless half saturation is that.
  // Last, since past saturation it leaves a backlog behind; only a ladder step long then.
  if (mode === 'separate' && Math.abs(halfRate - 250) > 12) {
    const beyond = saturation.confirmedPerSecond < 250
    await runStep('spec-250', 250, beyond ? settings.stepMs : settings.steadyMs, false)
  }
  if (settings.infoLogging && nats) {
    // The services' default level: the same half-saturation step on a shop logging at `info`.
    log('half saturation again, with every service logging at LOG_LEVEL=info...')
    await bench.shop.close()
    const infoBench = await prepareShop(nats, profileDir, { ...tracing.env, LOG_LEVEL: 'info' })
    await warmUp(infoBench)
    const step = await runMeasuredStep(
      stepOptions(infoBench, 'half-saturation-info', halfRate, settings.steadyMs),
    )
    steps.push(step)
    log(formatStepLine(step))
  }

  const measured: Omit<BenchResult, 'figures'> = {
    mode,
    startedAt: startedAt.toISOString(),
    durationSeconds: Math.round((performance.now() - started) / 1000),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    settings: {
      ...settings,
      postgresAdminUrl: redact(settings.postgresAdminUrl),
      nats: nats?.description ?? 'none: the in-process bus',
      cpuProfileDir: profileDir ?? null,
      settlement: bench.settlement.how,
      targets: SPEC_TARGETS,
    },
    ceilings,
    readyMs: bench.shop.readyMs,
    idleCpuCores,
    rssMiB: {
      idle: bench.idleRss,
      after: rssOf(bench.shop),
      privateIdle: bench.idlePrivateRss,
      privateAfter: rssOf(bench.shop, 'RssAnon'),
    },
    steps,
    saturation,
    readCapacity,
    pendingAfterOverload,
    tracing: tracing.report(),
  }
  const result: BenchResult = { ...measured, figures: buildFigures(measured) }
  await report(result, profileDir)
  log(`the run took ${Math.round((performance.now() - started) / 1000)} s before clean-up`)
}

type StepKind = StepReport['kind']
type RunStep = (kind: StepKind, rate: number, durationMs: number) => Promise<StepReport>

/** startNats starts the run's own nats-server (or names the one --nats-url gives). */
async function startNats(): Promise<BenchNats> {
  const server = args['nats-url'] ? sharedNatsServer(args['nats-url']) : await ownNatsServer()
  cleanups.push(() => server.close())
  log(`NATS: ${server.description}`)
  return server
}

/**
 * prepareTracing handles --trace-ratio R: a local OTLP sink, and the OpenTelemetry settings every
 * service then gets (parent-based sampling at R, export to the sink every second).
 */
async function prepareTracing() {
  if (settings.traceRatio === null) {
    return { env: {}, report: () => null }
  }
  if (!(settings.traceRatio >= 0 && settings.traceRatio <= 1)) {
    throw new Error('--trace-ratio is a share of traces, from 0 to 1')
  }
  const sink = await startOtlpSink()
  cleanups.push(() => sink.close())
  const env = {
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: String(settings.traceRatio),
    OTEL_BSP_SCHEDULE_DELAY: '1000',
  }
  log(`tracing: ${settings.traceRatio * 100}% of traces exported over OTLP/HTTP to ${sink.url}`)
  return { env, report: () => ({ ratio: settings.traceRatio, ...sink.received() }) }
}

/**
 * prepareProfiling handles --cpu-prof DIR: every service process writes a V8 CPU profile there
 * when it exits; the services run from their sources then, so that the profiles name each file.
 */
async function prepareProfiling(): Promise<string | undefined> {
  if (!args['cpu-prof']) return undefined
  const profileDir = resolve(args['cpu-prof'])
  await mkdir(profileDir, { recursive: true })
  log(`profiling every service from its sources into ${profileDir}`)
  return profileDir
}

/** BenchShop is a started shop with everything the measured steps need around it. */
interface BenchShop {
  shop: ShopUnderBench
  processGroups: MeasuredStepOptions['processGroups']
  pool: Pool
  shoppers: MeasuredStepOptions['shoppers']
  productIds: string[]
  readPaths: string[]
  settlement: SettlementWatch
  counters: WorkCounters | undefined
  idleRss: Record<string, number>
  idlePrivateRss: Record<string, number>
}

/**
 * warmUp offers the first rung's rate for a few seconds before anything is measured: the JIT,
 * the connection pools and the prepared statements are then as they will be, and the first
 * measured step does not stop the ladder for warm-up's sake.
 */
async function warmUp(bench: BenchShop): Promise<void> {
  const rate = settings.rates[0] ?? 10
  log(`warming the shop up at ${rate}/s...`)
  await runMeasuredStep(stepOptions(bench, 'warm-up', rate, settings.shopWarmUpMs))
  await bench.settlement.quiet(500, 10_000)
}

/**
 * pendingOrdersAfter waits for the backlog of an overload step to drain, then counts the orders
 * still PENDING in the orders database: every admitted order must have settled.
 */
async function pendingOrdersAfter(bench: BenchShop, step: StepReport): Promise<number | null> {
  await bench.settlement.quiet(1_000, 30_000)
  const ordersDb = bench.shop.databases.find((name) => name.endsWith('orders'))
  if (!ordersDb) return null
  const url = new URL(settings.postgresAdminUrl)
  url.pathname = `/${ordersDb}`
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  try {
    const { rows } = await client.query<{ pending: number }>(
      "select count(*)::int as pending from orders where status = 'PENDING'",
    )
    const pending = rows[0]?.pending ?? 0
    log(`after the ${step.kind} step drained: ${pending} orders still PENDING`)
    return pending
  } finally {
    await client.end()
  }
}

/**
 * prepareShop starts a fresh shop, signs up its shoppers and products, and opens what watches
 * it: the settlement of orders and the work counters (commits per database, events).
 */
async function prepareShop(
  nats: BenchNats | undefined,
  profileDir: string | undefined,
  env: Record<string, string> = {},
): Promise<BenchShop> {
  const extraEnv: Record<string, string> = { ...env }
  if (profileDir) {
    const preload = join(import.meta.dirname, 'profiling', 'write-cpu-profile-on-exit.ts')
    extraEnv.NODE_OPTIONS = `--import tsx --import ${preload}`
    extraEnv.CPU_PROFILE_DIR = profileDir
  }
  log('starting the shop...')
  const shop = nats
    ? await startSeparateShop({
        adminUrl: settings.postgresAdminUrl,
        nats,
        extraEnv,
        runtime: profileDir ? 'source' : 'bundle',
        log,
      })
    : await startEmbeddedShop(extraEnv)
  cleanups.push(() => shop.close())
  log(
    `ready: ${Object.entries(shop.readyMs)
      .map(([name, ms]) => `${name} ${ms} ms`)
      .join(', ')}`,
  )
  // Idle is at rest: once start-up has settled and each service has given back its start-up
  // memory (start-up-memory.ts), the gateway, started last, included.
  await setTimeout(START_UP_SETTLE_MS + 1_000)
  const idleRss = rssOf(shop)
  const idlePrivateRss = rssOf(shop, 'RssAnon')
  const processGroups = [
    ...shop.processes.map(({ name, pid }) => fixedProcess(name, pid)),
    ...shop.infrastructure,
    fixedProcess('bench-client', process.pid),
  ]
  const pool = new Pool(shop.gatewayUrl, {
    connections: settings.clientConnections,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  })
  cleanups.push(() => pool.close())
  log(`registering ${settings.shoppers} shoppers and ${settings.products} products...`)
  const [productIds, shoppers, paths] = await Promise.all([
    createBenchProducts(pool, settings.products),
    signUpShoppers(pool, settings.shoppers, 4),
    readPaths(pool),
  ])
  const settlement: SettlementWatch = shop.nats
    ? await watchSettlementOverNats(shop.nats.url, shop.nats.namespace)
    : watchSettlementByPolling(pool)
  cleanups.push(() => settlement.close())
  log(`orders' outcomes by ${settlement.how}`)
  let counters: WorkCounters | undefined
  if (shop.nats) {
    const opened = await openWorkCounters(settings.postgresAdminUrl, shop.databases, shop.nats)
    cleanups.push(() => opened.close())
    counters = opened
    if (!opened.statementsReadable) {
      log('no pg_stat_statements on this Postgres: no statement costs (bench/README.md says how)')
    }
  }
  return {
    shop,
    processGroups,
    pool,
    shoppers,
    productIds,
    readPaths: paths,
    settlement,
    counters,
    idleRss,
    idlePrivateRss,
  }
}

function stepOptions(
  bench: BenchShop,
  kind: StepKind,
  ratePerSecond: number,
  durationMs: number,
): MeasuredStepOptions {
  return {
    kind,
    ratePerSecond,
    durationMs,
    warmUpMs: settings.warmUpMs,
    settleWithinMs: settings.settleWithinMs,
    pool: bench.pool,
    settlement: bench.settlement,
    shoppers: bench.shoppers,
    productIds: bench.productIds,
    gatewayUrl: bench.shop.gatewayUrl,
    readPaths: bench.readPaths,
    readRatePerSecond: settings.readRatePerSecond,
    processGroups: bench.processGroups,
    counters: bench.counters,
  }
}

/**
 * findSaturation steps the arrival rate up the ladder until a step does not keep up, refines
 * once between the last good rung and that one when they are far apart, and names the step
 * with the most confirmations per second as the saturation point.
 */
async function findSaturation(
  steps: StepReport[],
  runStep: RunStep,
): Promise<BenchResult['saturation']> {
  log('stepping the arrival rate up...')
  let stoppedBecause = `the highest rate asked for (${settings.rates.at(-1)}/s) kept up`
  let lastGoodRate = 0
  for (const rate of settings.rates) {
    const step = await runStep('ladder', rate, settings.stepMs)
    if (!step.overloadedBecause) {
      lastGoodRate = rate
      continue
    }
    stoppedBecause = `at ${rate}/s: ${step.overloadedBecause}`
    // One step halfway back, when the ladder's rungs are wide there: a finer saturation point.
    const between = Math.round((lastGoodRate + rate) / 2)
    if (lastGoodRate > 0 && rate - lastGoodRate > 0.2 * rate) {
      const refined = await runStep('ladder', between, settings.stepMs)
      if (refined.overloadedBecause)
        stoppedBecause = `at ${between}/s: ${refined.overloadedBecause}`
    }
    break
  }
  const saturationStep = steps.reduce((best, step) =>
    step.confirmedPerSecond > best.confirmedPerSecond ? step : best,
  )
  const saturation = {
    confirmedPerSecond: Math.round(saturationStep.confirmedPerSecond),
    offeredPerSecond: saturationStep.offeredPerSecond,
    stepIndex: steps.indexOf(saturationStep),
    stoppedBecause,
  }
  log(`saturation: ${saturation.confirmedPerSecond} confirmed/s (${stoppedBecause})`)
  if (saturation.confirmedPerSecond < 2) {
    throw new Error(`no checkout was confirmed at the lowest rate: ${stoppedBecause}`)
  }
  return saturation
}

/** report prints the table and writes the JSON and the plot under bench/results/. */
async function report(result: BenchResult, profileDir: string | undefined): Promise<void> {
  const written = await writeResults(result)
  console.log('')
  console.log(
    `microshop benchmark, ${mode === 'separate' ? 'separate processes on Postgres + NATS JetStream' : 'embedded (npm start: one process, PGlite, in-process bus)'}; ` +
      `${result.machine.cpus} x ${result.machine.cpuModel}; services at LOG_LEVEL=${settings.logLevel}`,
  )
  if (profileDir) {
    console.log(
      'PROFILED RUN: the services ran from their sources under the profiler; not comparable',
    )
  }
  console.log(`saturation: ${result.saturation.stoppedBecause}`)
  console.log(`outcomes timed by ${String(result.settings.settlement)}`)
  console.log('')
  console.log(formatTable(result.figures))
  console.log('')
  const statements = formatStatementCosts(result.steps)
  if (statements) console.log(`${statements}\n`)
  console.log(`wrote ${written.join(', ')}`)
  if (profileDir) {
    console.log(
      `CPU profiles are written as the services exit; then: node --import tsx bench/profiling/summarize-cpu-profiles.ts ${profileDir}`,
    )
  }
}

async function measureCeilings(natsUrl: string): Promise<BenchResult['ceilings']> {
  const seconds = settings.ceilingSeconds
  // In embedded mode the servers are optional: a ceiling that cannot be measured is left out.
  const optional = async (what: string, measure: () => Promise<number>) => {
    try {
      return Math.round(await measure())
    } catch (error) {
      if (mode === 'separate') throw error
      log(`no ${what} ceiling: ${error instanceof Error ? error.message : String(error)}`)
      return null
    }
  }
  return {
    postgresCommitsPerSecond: await optional('Postgres', () =>
      postgresCommitsPerSecond(
        settings.postgresAdminUrl,
        settings.postgresConcurrency,
        seconds * 1000,
      ),
    ),
    jetstreamPublishAcksPerSecond: await optional('JetStream', () =>
      jetstreamPublishAcksPerSecond(natsUrl, settings.jetstreamInFlight, seconds * 1000),
    ),
    fastifyHelloRequestsPerSecond: Math.round(
      await fastifyHelloRequestsPerSecond(settings.httpConnections, seconds),
    ),
  }
}

function rssOf(shop: ShopUnderBench, part?: 'RssAnon'): Record<string, number> {
  return Object.fromEntries(
    shop.processes.map(({ name, pid }) => [
      name,
      Math.round((rssBytes(pid, part) ?? NaN) / 1024 ** 2),
    ]),
  )
}

async function writeResults(result: BenchResult): Promise<string[]> {
  await mkdir(resultsDir, { recursive: true })
  const stamp = result.startedAt.replaceAll(':', '').replace(/\.\d+Z$/, 'Z')
  const jsonPath = join(resultsDir, `${stamp}-${result.mode}.json`)
  const latestPath = join(resultsDir, `latest-${result.mode}.json`)
  const plotPath = join(
    resultsDir,
    result.mode === 'separate' ? 'latency-vs-rate.svg' : 'latency-vs-rate-embedded.svg',
  )
  await writeFile(jsonPath, `${JSON.stringify(result, null, 2)}\n`)
  await copyFile(jsonPath, latestPath)
  const svg = benchResultPlotSvg(result)
  await writeFile(plotPath, svg)
  return [jsonPath, latestPath, plotPath]
}

function fmtCeiling(value: number | null): string {
  return value === null ? 'n/a' : value.toLocaleString('en-US')
}

function redact(url: string): string {
  const parsed = new URL(url)
  if (parsed.password) parsed.password = '***'
  return parsed.toString()
}

// bench/shop-under-bench.ts starts the shop the way each benchmark mode measures it, and tears
// all of it down again: the processes, and in separate-process mode the run's databases, roles
// and NATS streams. It reuses the run modes' own code (scripts/service-processes.ts,
// scripts/all-in-one.ts), so the benchmark measures the shop as it is started for real.
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildBundles } from '../scripts/build-bundles.ts'
import { createServiceDatabases, dropServiceDatabases } from '../scripts/service-databases.ts'
import { startServiceProcesses } from '../scripts/service-processes.ts'
import {
  backendServices,
  freePorts,
  type ServiceName,
  type ShopPorts,
} from '../scripts/shop-layout.ts'
import type { BenchNats } from './bench-nats.ts'
import {
  childPidRunning,
  postgresProcesses,
  startedAtMs,
  type ProcessGroup,
} from './process-stats.ts'

export type BenchMode = 'separate' | 'embedded'

const repoRoot = resolve(import.meta.dirname, '..')

/** BENCH_ADMIN is the admin account of the benchmark's throwaway shop, which makes its products. */
export const BENCH_ADMIN = {
  email: 'bench-admin@microshop.local',
  password: 'bench-admin-password',
}

/**
 * BENCH_ENV are the settings the benchmark gives every service: logs at `warn`, so that writing
 * log lines does not dominate the figures; no rate or client limits, since every request comes
 * from one address; tokens that outlive the run.
 */
export const BENCH_ENV = {
  LOG_LEVEL: 'warn',
  SEED_DEMO_DATA: 'true',
  ADMIN_EMAIL: BENCH_ADMIN.email,
  ADMIN_PASSWORD: BENCH_ADMIN.password,
  ACCESS_TOKEN_TTL_SECONDS: '3600',
  RATE_LIMIT_MAX: '0',
  AUTH_RATE_LIMIT_MAX: '0',
  // Every request comes from this one address, and 100 shoppers place thousands of orders: the
  // per-client and per-customer bounds (decision 0012) would measure themselves, not the shop.
  CLIENT_MAX_IN_FLIGHT: '0',
  CUSTOMER_MAX_PENDING_ORDERS: '100000',
  CUSTOMER_MAX_PENDING_UNITS: '1000000',
}

/** ShopUnderBench is a running shop and what the benchmark needs to know to measure it. */
export interface ShopUnderBench {
  mode: BenchMode
  gatewayUrl: string
  /** nats is where separate-process mode publishes its events, to time confirmations. */
  nats?: { url: string; namespace: string }
  /** processes are the shop's own: one per service, or the one all-in-one process. */
  processes: { name: string; pid: number }[]
  /** infrastructure are the servers the shop runs on, measured beside it (none when embedded). */
  infrastructure: ProcessGroup[]
  /** databases are the run's database names on Postgres, for its commit counters. */
  databases: string[]
  /** readyMs is how long each process took from its start to its first ready answer. */
  readyMs: Record<string, number>
  close(): Promise<void>
}

export interface SeparateShopOptions {
  adminUrl: string
  nats: BenchNats
  /** extraEnv goes to every service over BENCH_ENV (e.g. NODE_OPTIONS for --cpu-prof). */
  extraEnv?: Record<string, string>
  /** runtime `source` runs the TypeScript through tsx, so profiles name each file; default `bundle`. */
  runtime?: 'bundle' | 'source'
  /** log hears what the launcher is doing. */
  log: (line: string) => void
}

/**
 * startSeparateShop builds the bundles, creates a fresh database and role per service for this
 * run, and starts every service as its own `node services/<name>/dist/main.js` process on the
 * given NATS, timing each from its process start to its first ready answer. If anything fails on
 * the way, what was made is removed before the error is thrown; close removes the databases too.
 */
export async function startSeparateShop(options: SeparateShopOptions): Promise<ShopUnderBench> {
  const runtime = options.runtime ?? 'bundle'
  if (runtime === 'bundle') {
    const buildStarted = performance.now()
    await buildBundles()
    options.log(`built the bundles (${Math.round(performance.now() - buildStarted)} ms)`)
  }

  const prefix = `bench_${randomBytes(4).toString('hex')}_`
  const removeAll = () => dropServiceDatabases({ adminUrl: options.adminUrl, prefix })
  const ports = await freePorts()
  const readiness = new ReadinessWatch(ports, (name) =>
    childPidRunning(
      process.pid,
      runtime === 'bundle'
        ? join('services', name, 'dist', 'main.js')
        : join('services', name, 'src', 'main.ts'),
    ),
  )
  let processes: Awaited<ReturnType<typeof startServiceProcesses>>
  try {
    const databaseUrls = await createServiceDatabases({ adminUrl: options.adminUrl, prefix })
    processes = await startServiceProcesses({
      ports,
      databaseUrls,
      natsUrl: options.nats.url,
      natsNamespace: options.nats.namespace,
      env: { PATH: process.env.PATH, ...BENCH_ENV, ...options.extraEnv },
      runtime,
      output: 'capture',
      onExit: (_service, description) => options.log(`${description} during the run`),
    })
  } catch (error) {
    readiness.stop()
    await removeAll()
    throw error
  }
  const readyMs = await readiness.finished()
  const names: ServiceName[] = [...backendServices, 'gateway']
  const pids = names.map((name) => ({ name, pid: readiness.pidOf(name) }))
  return {
    mode: 'separate',
    gatewayUrl: processes.urls.gateway,
    nats: { url: options.nats.url, namespace: options.nats.namespace },
    processes: pids.filter((entry): entry is { name: ServiceName; pid: number } => !!entry.pid),
    infrastructure: [postgresProcesses(prefix), options.nats.processes],
    databases: backendServices.map((service) => `${prefix}${service}`),
    readyMs,
    async close() {
      try {
        await processes.close()
      } finally {
        await removeAll()
      }
    },
  }
}

/**
 * startEmbeddedShop runs the shop as `npm start` does, in a child process (bench/embedded-shop.ts)
 * with a fresh data folder, and times it from process start to ready.
 */
export async function startEmbeddedShop(
  extraEnv: Record<string, string> = {},
): Promise<ShopUnderBench> {
  const dataDir = await mkdtemp(join(tmpdir(), 'microshop-bench-'))
  const child = fork(join(import.meta.dirname, 'embedded-shop.ts'), [], {
    cwd: repoRoot,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...BENCH_ENV, ...extraEnv, DATA_DIR: dataDir },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const exited = once(child, 'exit')
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
    }
    await rm(dataDir, { recursive: true, force: true })
  }
  try {
    const ready = once(child, 'message') as Promise<[{ ports: ShopPorts }]>
    const failed = exited.then(([code]) => {
      throw new Error(`the embedded shop exited (code ${String(code)}) before it was ready`)
    })
    const [{ ports }] = await Promise.race([ready, failed])
    const pid = child.pid as number
    const readyAt = performance.now()
    return {
      mode: 'embedded',
      gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
      processes: [{ name: 'all-in-one', pid }],
      infrastructure: [],
      databases: [],
      readyMs: { 'all-in-one': Math.round(readyAt - (startedAtMs(pid) ?? readyAt)) },
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}

/**
 * ReadinessWatch times each service from its process start (as the kernel recorded it) to its
 * first 200 from /health/ready, polling every 20 ms: finer than the run mode's own wait, which
 * only says when all of them are up.
 */
class ReadinessWatch {
  private readonly pids = new Map<ServiceName, number>()
  private readonly readyMs: Record<string, number> = {}
  private stopped = false
  private readonly watching: Promise<void>

  constructor(
    private readonly ports: ShopPorts,
    private readonly findPid: (name: ServiceName) => number | undefined,
  ) {
    const names = Object.keys(ports) as ServiceName[]
    this.watching = Promise.all(names.map((name) => this.watch(name))).then(() => undefined)
  }

  pidOf(name: ServiceName): number | undefined {
    return this.pids.get(name)
  }

  stop(): void {
    this.stopped = true
  }

  async finished(): Promise<Record<string, number>> {
    // The run mode already saw every service ready; give this watch a moment to see it too.
    const timer = setTimeout(() => this.stop(), 5_000)
    await this.watching
    clearTimeout(timer)
    return this.readyMs
  }

  private async watch(name: ServiceName): Promise<void> {
    while (!this.stopped) {
      const pid = this.pids.get(name) ?? this.findPid(name)
      if (pid !== undefined) {
        this.pids.set(name, pid)
        if (await isReady(`http://127.0.0.1:${this.ports[name]}`)) {
          const readyAt = performance.now()
          this.readyMs[name] = Math.round(readyAt - (startedAtMs(pid) ?? readyAt))
          return
        }
      }
      await sleep(20)
    }
  }
}

async function isReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(1_000) })
    await response.body?.cancel()
    return response.ok
  } catch {
    return false
  }
}

// service-processes.ts: every service as its own Node process, on Postgres and NATS, the way the
// chaos drills, the benchmark and `npm run start:services` run the shop. A process runs the
// service's bundle (services/<name>/dist/main.js, `npm run build`) when it is at least as new as
// the sources, else the TypeScript sources through tsx.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import {
  backendServices,
  serviceNodeFlags,
  serviceProcessEnv,
  shopUrls,
  waitUntilReady,
  type BackendService,
  type ServiceName,
  type ShopPorts,
} from './shop-layout.ts'

const repoRoot = resolve(import.meta.dirname, '..')

/** Runtime picks what a process runs: the bundle, the sources, or the bundle when it is fresh. */
export type Runtime = 'bundle' | 'source' | 'auto'

export interface ServiceProcessesOptions {
  ports: ShopPorts
  /** databaseUrls is each service's own DATABASE_URL (see service-databases.ts). */
  databaseUrls: Record<BackendService, string>
  natsUrl: string
  /** natsNamespace prefixes streams and subjects: tests give each run its own. */
  natsNamespace?: string | undefined
  /** env is passed to every process under the settings above (LOG_LEVEL, ADMIN_*...). */
  env?: Record<string, string | undefined>
  /** env for one service only, over the rest (e.g. a low rate limit for the gateway). */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>
  runtime?: Runtime
  /**
   * output `inherit` writes the services' JSON log lines to this process's stdout as they are,
   * and their stderr prefixed with the service's name; `capture` keeps the last lines of each,
   * for tests to show when something fails.
   */
  output?: 'inherit' | 'capture'
  readyTimeoutMs?: number
  /** onExit hears of a process that ended without being stopped (a crash). */
  onExit?: (service: ServiceName, description: string) => void
}

export interface ServiceProcesses {
  urls: Record<ServiceName, string>
  /** runtimes says which form each service runs. */
  runtimes: Record<ServiceName, 'bundle' | 'source'>
  /** stop ends one service with SIGTERM (or SIGKILL, like a crash) and waits for it to exit. */
  stop(service: ServiceName, signal?: NodeJS.Signals): Promise<void>
  /** start runs a stopped service again and waits until it is ready. */
  start(service: ServiceName): Promise<void>
  /** output is the last lines a service printed (with `output: 'capture'`). */
  output(service: ServiceName): string
  /** close stops the gateway, then the services, and waits for every process to exit. */
  close(): Promise<void>
}

const CAPTURED_LINES = 200
const SHUTDOWN_WAIT_MS = 12_000

/**
 * startServiceProcesses starts the services side by side and then the gateway, each as its own
 * process, and resolves when all are ready. If one fails to start, every process is stopped and
 * the error says which, with what it printed. Processes are also killed when this one exits.
 */
export async function startServiceProcesses(
  options: ServiceProcessesOptions,
): Promise<ServiceProcesses> {
  const output = options.output ?? 'inherit'
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000
  const urls = Object.fromEntries(
    Object.entries(options.ports).map(([name, port]) => [name, `http://127.0.0.1:${port}`]),
  ) as Record<ServiceName, string>
  const names: ServiceName[] = [...backendServices, 'gateway']
  const runtimes = Object.fromEntries(
    await Promise.all(
      names.map(async (name) => [name, await runtimeOf(name, options.runtime ?? 'auto')] as const),
    ),
  ) as Record<ServiceName, 'bundle' | 'source'>
  const children = new Map<ServiceName, ChildProcess>()
  const captured = new Map<ServiceName, string[]>(names.map((name) => [name, []]))
  const exits = new Map<ServiceName, string>()
  const stopping = new Set<ServiceName>()

  const killAll = () => {
    for (const child of children.values()) child.kill('SIGKILL')
  }
  process.once('exit', killAll)

  const envOf = (name: ServiceName): NodeJS.ProcessEnv => ({
    ...serviceProcessEnv,
    ...options.env,
    ...shopUrls(options.ports),
    HOST: '127.0.0.1',
    PORT: String(options.ports[name]),
    NATS_URL: options.natsUrl,
    NATS_NAMESPACE: options.natsNamespace ?? '',
    // METRICS_PORT is one port: the gateway's (the services serve theirs on their own port).
    ...(name === 'gateway'
      ? {}
      : { DATABASE_URL: options.databaseUrls[name], METRICS_PORT: undefined }),
    ...options.serviceEnv?.[name],
  })

  const spawnService = (name: ServiceName) => {
    exits.delete(name)
    const entry =
      runtimes[name] === 'bundle'
        ? [...serviceNodeFlags[name], join(repoRoot, 'services', name, 'dist', 'main.js')]
        : ['--import', 'tsx', join(repoRoot, 'services', name, 'src', 'main.ts')]
    // detached: each service in its own process group, so a Ctrl-C in the terminal reaches only
    // this process, which then stops the services in order, once each.
    const child = spawn(process.execPath, entry, {
      cwd: repoRoot,
      env: envOf(name),
      stdio: ['ignore', output === 'inherit' ? 'inherit' : 'pipe', 'pipe'],
      detached: true,
    })
    children.set(name, child)
    const keep = (line: string) => {
      const lines = captured.get(name) as string[]
      lines.push(line)
      if (lines.length > CAPTURED_LINES) lines.shift()
    }
    if (child.stdout) createInterface({ input: child.stdout }).on('line', keep)
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
      if (output === 'inherit') process.stderr.write(`[${name}] ${line}\n`)
      else keep(line)
    })
    child.once('exit', (code, signal) => {
      if (children.get(name) === child) children.delete(name)
      const description = `${name} exited (${signal ?? `code ${code}`})`
      exits.set(name, description)
      if (!stopping.has(name)) options.onExit?.(name, description)
    })
  }

  const startAndWait = async (name: ServiceName) => {
    spawnService(name)
    await waitUntilReady(urls[name], readyTimeoutMs, () => {
      const exit = exits.get(name)
      return exit && `${exit} before it was ready${lastLines(name)}`
    })
  }

  const lastLines = (name: ServiceName) =>
    output === 'capture' ? `:\n${(captured.get(name) ?? []).slice(-20).join('\n')}` : ''

  const stop = async (name: ServiceName, signal: NodeJS.Signals = 'SIGTERM') => {
    const child = children.get(name)
    if (!child || child.exitCode !== null) return
    const exited = new Promise<void>((done) => child.once('exit', () => done()))
    stopping.add(name)
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), SHUTDOWN_WAIT_MS)
    await exited
    clearTimeout(timer)
    stopping.delete(name)
  }

  const close = async () => {
    await stop('gateway')
    await Promise.all(backendServices.map((name) => stop(name)))
    process.removeListener('exit', killAll)
  }

  try {
    await Promise.all(backendServices.map(startAndWait))
    await startAndWait('gateway')
  } catch (error) {
    await close()
    throw error
  }

  return {
    urls,
    runtimes,
    stop,
    start: startAndWait,
    output: (name) => (captured.get(name) ?? []).join('\n'),
    close,
  }
}

// runtimeOf picks the bundle when asked, or in `auto` when it exists and no source it is built
// from (the service's and the shared packages') changed after it.
async function runtimeOf(name: ServiceName, runtime: Runtime): Promise<'bundle' | 'source'> {
  const bundle = join(repoRoot, 'services', name, 'dist', 'main.js')
  if (runtime === 'source') return 'source'
  if (runtime === 'bundle') {
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build`)
    return 'bundle'
  }
  if (!existsSync(bundle)) return 'source'
  const builtAt = (await stat(bundle)).mtimeMs
  const sources = [
    join(repoRoot, 'services', name, 'src'),
    join(repoRoot, 'services', name, 'migrations'),
    join(repoRoot, 'packages'),
  ]
  const newest = Math.max(...(await Promise.all(sources.map(newestChange))))
  return newest <= builtAt ? 'bundle' : 'source'
}

async function newestChange(directory: string): Promise<number> {
  if (!existsSync(directory)) return 0
  const entries = await readdir(directory, { recursive: true, withFileTypes: true })
  const times = await Promise.all(
    entries
      .filter((entry) => entry.isFile() && !entry.parentPath.includes('node_modules'))
      .map(async (entry) => (await stat(join(entry.parentPath, entry.name))).mtimeMs),
  )
  return Math.max(0, ...times)
}

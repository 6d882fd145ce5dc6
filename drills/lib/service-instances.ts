// drills/lib/service-instances.ts: the shop as separate processes with any number of replicas of
// each service, for drills that kill and restart them. Each instance is the service's bundle
// (`node services/<name>/dist/main.js`, built by scripts/build.ts) on a port of its own; the
// gateway instances are told every replica of each service (comma-separated URLs, which the
// gateway balances across), as a Kubernetes Service or Docker's DNS would do in front of them.
// scripts/service-processes.ts runs one process per service; this is its replicated sibling.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import {
  backendServices,
  freePorts,
  serviceNodeFlags,
  serviceProcessEnv,
  waitUntilReady,
  type BackendService,
  type ServiceName,
} from '../../scripts/shop-layout.ts'

const repoRoot = resolve(import.meta.dirname, '..', '..')

/** serviceNames are every service, in the order instances start: the gateway last. */
export const serviceNames: readonly ServiceName[] = [...backendServices, 'gateway']

export type Replicas = Record<ServiceName, number>

export interface ServiceInstancesOptions {
  replicas: Replicas
  /** databaseUrls are each service's DATABASE_URL: every replica of a service shares its database. */
  databaseUrls: Record<BackendService, string>
  natsUrl: string
  natsNamespace: string
  /** env goes to every process (LOG_LEVEL, ADMIN_*, JWT_SIGNING_KEYS...). */
  env: Record<string, string>
  /** serviceEnv goes to every replica of one service, over env. */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>
  readyTimeoutMs?: number
  /**
   * onExit hears of an instance that ended without being stopped or killed on purpose, with the
   * last lines it printed (where a crash says why).
   */
  onExit?: (instance: Instance, description: string, lastLines: string) => void
}

/**
 * unplannedExits is an onExit for a drill: it notes each unplanned exit in `into` (for the drill's
 * report) and logs it with the instance's last lines, where a crash says why.
 */
export function unplannedExits(
  into: string[],
  log: (line: string) => void,
): NonNullable<ServiceInstancesOptions['onExit']> {
  return (instance, description, lastLines) => {
    into.push(`${instance.name} ${description}`)
    log(`${instance.name} ${description}; its last lines:\n${lastLines}`)
  }
}

/** Instance is one replica of a service: `orders#2` listens on its own port. */
export interface Instance {
  service: ServiceName
  index: number
  name: string
  port: number
  url: string
  /** pid is the running process's, undefined while it is down. */
  readonly pid: number | undefined
  /** exit says how the last process ended (`exited (code 0)`, `exited (SIGKILL)`), undefined while it runs. */
  readonly exit: string | undefined
}

export interface ServiceInstances {
  instances: readonly Instance[]
  of(service: ServiceName): Instance[]
  /** gatewayUrls are the gateway replicas' URLs: the drill's clients balance across them. */
  gatewayUrls: string[]
  /** stop ends an instance with a signal (SIGKILL: a crash) and waits for the process to exit. */
  stop(instance: Instance, signal?: NodeJS.Signals): Promise<void>
  /** start runs a stopped instance again, on its port, and waits until it is ready. */
  start(instance: Instance): Promise<void>
  /** pids are the running processes of one service, or of all. */
  pids(service?: ServiceName): number[]
  /** output is the last lines an instance printed: for the report when something fails. */
  output(instance: Instance): string
  /** close stops the gateways, then the rest, with SIGTERM, and waits for every process. */
  close(): Promise<void>
}

const CAPTURED_LINES = 200
const SHUTDOWN_WAIT_MS = 15_000

/**
 * startServiceInstances starts every replica of the backend services side by side, then the
 * gateways, and resolves once all are ready. If one fails to start, everything started is
 * stopped and the error says which instance, with its last lines.
 */
export async function startServiceInstances(
  options: ServiceInstancesOptions,
): Promise<ServiceInstances> {
  const instances: InstanceState[] = []
  for (const service of serviceNames) {
    for (let index = 0; index < options.replicas[service]; index++) {
      instances.push(new InstanceState(service, index, 0))
    }
  }
  // freePorts gives one port per service name at a time: ask until every instance has one.
  const ports: number[] = []
  while (ports.length < instances.length) ports.push(...Object.values(await freePorts()))
  instances.forEach((instance, position) => {
    instance.port = ports[position] as number
  })
  const of = (service: ServiceName) => instances.filter((i) => i.service === service)
  const urls = (service: ServiceName) => of(service).map((i) => i.url)
  const killAll = () => instances.forEach((instance) => instance.child?.kill('SIGKILL'))
  process.once('exit', killAll)

  // envOf: replica i of a service asks replica i (mod n) of users for keys and of catalog for
  // products; the gateways get every replica of every service.
  const envOf = (instance: InstanceState): NodeJS.ProcessEnv => {
    const pick = (service: ServiceName) => {
      const replicas = of(service)
      return (replicas[instance.index % replicas.length] as InstanceState).url
    }
    const shared = {
      ...serviceProcessEnv,
      ...options.env,
      HOST: '127.0.0.1',
      PORT: String(instance.port),
      NATS_URL: options.natsUrl,
      NATS_NAMESPACE: options.natsNamespace,
      JWKS_URL: `${pick('users')}/auth/jwks.json`,
    }
    if (instance.service === 'gateway') {
      return {
        ...shared,
        USERS_URL: urls('users').join(','),
        CATALOG_URL: urls('catalog').join(','),
        ORDERS_URL: urls('orders').join(','),
        PAYMENTS_URL: urls('payments').join(','),
        ...options.serviceEnv?.gateway,
      }
    }
    return {
      ...shared,
      CATALOG_URL: pick('catalog'),
      DATABASE_URL: options.databaseUrls[instance.service],
      ...options.serviceEnv?.[instance.service],
    }
  }

  const start = async (instance: InstanceState) => {
    instance.spawn(envOf(instance), options.onExit)
    await waitUntilReady(instance.url, options.readyTimeoutMs ?? 30_000, () =>
      instance.exit
        ? `${instance.name}: ${instance.exit} before it was ready:\n${instance.lastLines(20)}`
        : undefined,
    )
  }
  const close = async () => {
    await Promise.all(of('gateway').map((instance) => instance.stop('SIGTERM')))
    await Promise.all(instances.map((instance) => instance.stop('SIGTERM')))
    process.removeListener('exit', killAll)
  }

  try {
    await Promise.all(instances.filter((i) => i.service !== 'gateway').map(start))
    await Promise.all(of('gateway').map(start))
  } catch (error) {
    await close()
    throw error
  }

  return {
    instances,
    of,
    gatewayUrls: urls('gateway'),
    stop: (instance, signal = 'SIGTERM') => (instance as InstanceState).stop(signal),
    start: (instance) => start(instance as InstanceState),
    pids: (service) =>
      (service ? of(service) : instances).flatMap((instance) =>
        instance.pid ? [instance.pid] : [],
      ),
    output: (instance) => (instance as InstanceState).lastLines(CAPTURED_LINES),
    close,
  }
}

class InstanceState implements Instance {
  child: ChildProcess | undefined
  exit: string | undefined
  private stopping = false
  private readonly lines: string[] = []

  constructor(
    readonly service: ServiceName,
    readonly index: number,
    public port: number,
  ) {}

  get name(): string {
    return `${this.service}#${this.index}`
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get pid(): number | undefined {
    return this.child && this.child.exitCode === null && this.child.signalCode === null
      ? this.child.pid
      : undefined
  }

  spawn(env: NodeJS.ProcessEnv, onExit: ServiceInstancesOptions['onExit']): void {
    this.exit = undefined
    this.stopping = false
    // detached: its own process group, so a Ctrl-C reaches the drill alone, which stops them.
    const child = spawn(
      process.execPath,
      [
        ...serviceNodeFlags[this.service],
        join(repoRoot, 'services', this.service, 'dist', 'main.js'),
      ],
      {
        cwd: repoRoot,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    )
    this.child = child
    const keep = (line: string) => {
      this.lines.push(line)
      if (this.lines.length > CAPTURED_LINES) this.lines.shift()
    }
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', keep)
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', keep)
    child.once('exit', (code, signal) => {
      this.exit = `exited (${signal ?? `code ${code}`})`
      if (!this.stopping) onExit?.(this, this.exit, this.lastLines(20))
    })
  }

  async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    this.stopping = true
    const exited = once(child, 'exit')
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), SHUTDOWN_WAIT_MS)
    await exited
    clearTimeout(timer)
  }

  lastLines(count: number): string {
    return this.lines.slice(-count).join('\n')
  }
}

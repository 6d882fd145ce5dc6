// shop-layout.ts: which services make up the shop, where each listens, and the settings that tell
// them where the others are. Both run modes (scripts/all-in-one.ts, scripts/service-processes.ts)
// and the end-to-end tests read it.
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

/** backendServices are the services behind the gateway, in the order they start. */
export const backendServices = ['users', 'catalog', 'orders', 'payments'] as const
export type BackendService = (typeof backendServices)[number]
export type ServiceName = 'gateway' | BackendService

export type ShopPorts = Record<ServiceName, number>

/**
 * compileCacheDirectory is where Node keeps V8's code for the bundles run on this machine
 * (NODE_COMPILE_CACHE): `npm run build` fills it, so that no start compiles a bundle again
 * (decision 0017). Node keys it by file, content, Node version, flags and user.
 */
const compileCacheDirectory = fileURLToPath(
  new URL('../node_modules/.cache/node-compile-cache', import.meta.url),
)

/**
 * serviceProcessEnv is what the images set for a service's process that a launcher of the
 * bundles must set too: one malloc arena for every thread (glibc reads it at exec) and the
 * compile cache (decision 0017).
 */
export const serviceProcessEnv = {
  MALLOC_ARENA_MAX: '1',
  NODE_COMPILE_CACHE: compileCacheDirectory,
} as const

/**
 * serviceNodeFlags are the node flags the images run each service with. The gateway's
 * WebAssembly is compiled by V8's baseline compiler only (`--liftoff-only`; it cannot be set from
 * inside a process): its one module is fetch's and undici's HTTP parser (llhttp), which parses
 * every proxied answer and whose optimised code and its compiler held ~12 MiB for the life of the
 * process (at rest after one upstream call: 94 -> 82 MiB); the parser's own time is under 1% of
 * the gateway's CPU. The backends make too few HTTP calls (the JWKS, orders' reads of unknown
 * products) for V8 to optimise the parser, and without the flag V8 takes Node's own code cache
 * for its built-in modules, which it refuses when any V8 flag differs from Node's build: ~60 ms
 * less CPU per start (decision 0017). Not for a process that runs PGlite, whose Postgres is
 * WebAssembly: `npm start`, and the users image when it runs without DATABASE_URL.
 */
export const serviceNodeFlags: Record<ServiceName, readonly string[]> = {
  gateway: ['--liftoff-only'],
  users: [],
  catalog: [],
  orders: [],
  payments: [],
}

/** defaultPorts are the spec's: the gateway on 8080, the services on 8081-8084. */
export const defaultPorts: ShopPorts = {
  gateway: 8080,
  users: 8081,
  orders: 8082,
  payments: 8083,
  catalog: 8084,
}

/**
 * shopUrls are the settings that point services at each other: the gateway's upstreams, orders'
 * catalog, and everyone's JWKS. Each service reads the ones it knows and ignores the rest.
 */
export function shopUrls(ports: ShopPorts, host = '127.0.0.1'): Record<string, string> {
  const url = (service: ServiceName) => `http://${host}:${ports[service]}`
  return {
    USERS_URL: url('users'),
    CATALOG_URL: url('catalog'),
    ORDERS_URL: url('orders'),
    PAYMENTS_URL: url('payments'),
    JWKS_URL: `${url('users')}/auth/jwks.json`,
  }
}

/** portsInUse are the ports of the shop that something already listens on (on 127.0.0.1). */
export async function portsInUse(ports: ShopPorts): Promise<number[]> {
  const taken = await Promise.all(
    Object.values(ports).map(
      (port) =>
        new Promise<number | undefined>((resolve) => {
          const probe = createServer()
          probe.once('error', () => resolve(port))
          probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(undefined)))
        }),
    ),
  )
  return taken.filter((port) => port !== undefined)
}

/** freePorts asks the OS for a free port per service: for tests that run beside a running shop. */
export async function freePorts(): Promise<ShopPorts> {
  const names = Object.keys(defaultPorts) as ServiceName[]
  const ports = await Promise.all(names.map(() => freePort()))
  return Object.fromEntries(names.map((name, index) => [name, ports[index]])) as ShopPorts
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** waitUntilReady polls a service's /health/ready until it answers 200, or throws after timeoutMs. */
export async function waitUntilReady(
  url: string,
  timeoutMs: number,
  gaveUp: () => string | undefined = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const reason = gaveUp()
    if (reason !== undefined) throw new Error(reason)
    try {
      const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(1_000) })
      await response.body?.cancel()
      if (response.ok) return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} was not ready within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

import { isIP } from 'node:net'
import Type, { type Static, type TObject, type TProperties } from 'typebox'
import { Value } from 'typebox/value'

/** ConfigError lists every missing or bad setting at once, so one failed boot shows them all. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
  }
}

export type EnvSource = Record<string, string | undefined>

/**
 * loadEnv parses the settings a schema names from the environment, converting strings to
 * numbers and booleans and filling defaults. Empty strings count as unset. It is the one
 * place that reads process.env; services call it once at boot from their config.ts.
 */
export function loadEnv<T extends TObject>(schema: T, source: EnvSource = process.env): Static<T> {
  const raw: Record<string, string> = {}
  for (const key of Object.keys(schema.properties)) {
    const value = source[key]
    if (value !== undefined && value !== '') raw[key] = value
  }
  const value = Value.Default(schema, Value.Convert(schema, raw))
  const problems = Value.Errors(schema, value).map(describeError)
  if (problems.length > 0) throw new ConfigError(problems)
  return value as Static<T>
}

function describeError(error: {
  instancePath: string
  message: string
  params: unknown
  keyword: string
}): string {
  if (error.keyword === 'required') {
    const missing = (error.params as { requiredProperties?: string[] }).requiredProperties ?? []
    return `${missing.join(', ')}: required but not set`
  }
  return `${error.instancePath.slice(1)}: ${error.message}`
}

/** TrustedProxies are the proxies whose X-Forwarded-For is believed: none, a hop count, or addresses. */
export type TrustedProxies = false | number | string[]

// PROXY_NAMES are proxy-addr's names for address ranges: 127.0.0.1/8 and ::1, 169.254.0.0/16 and
// fe80::/10, and the private ranges (10/8, 172.16/12, 192.168/16, fc00::/7).
const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/**
 * trustedProxies reads a TRUST_PROXY setting: empty or `false` for none; a number, the count of
 * proxies in front (each appends the address it saw, so the client is that many entries from
 * the right of X-Forwarded-For); or a comma-separated list of the proxies' addresses, CIDRs and
 * the names loopback, linklocal and uniquelocal. Undefined when it is none of these: `true` in
 * particular, which would let every client choose its address with the left-most entry.
 */
export function trustedProxies(setting: string): TrustedProxies | undefined {
  const value = setting.trim()
  if (value === '' || value === 'false') return false
  if (/^\d{1,2}$/.test(value)) return Number(value) === 0 ? false : Number(value)
  const entries = value.split(',').map((entry) => entry.trim())
  return entries.every(isProxyAddress) ? entries : undefined
}

function isProxyAddress(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true
  const [address = '', prefix, ...rest] = entry.split('/')
  const version = isIP(address)
  if (version === 0 || rest.length > 0) return false
  if (prefix === undefined) return true
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128)
}

/**
 * trustProxyEnv is the TRUST_PROXY setting with its default: which proxies in front of this
 * service may say who the client is (trustedProxies).
 */
export function trustProxyEnv(defaultValue: string) {
  return Type.Refine(
    Type.String({ default: defaultValue }),
    (value) => trustedProxies(value) !== undefined,
    () =>
      'must be the number of proxies in front (e.g. 1) or their addresses or CIDRs ' +
      '(e.g. 10.0.0.0/8,loopback); `true` would let any client choose its address',
  )
}

/**
 * serviceEnv holds the settings every service reads: where to listen, how to log, which
 * database and broker to use, how long a request may take to arrive and how large it may be.
 * A service spreads it into its own schema with its own port.
 */
export function serviceEnv(defaultPort: number) {
  return {
    HOST: Type.String({ default: '0.0.0.0' }),
    PORT: Type.Integer({ default: defaultPort, minimum: 0, maximum: 65535 }),
    /** METRICS_PORT serves /metrics on a port of its own, instead of the service's port. */
    METRICS_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      default: 'info',
    }),
    /** DATABASE_URL selects Postgres; without it the service keeps an embedded PGlite in DATA_DIR. */
    DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
    DATABASE_POOL_SIZE: Type.Integer({ default: 10, minimum: 1, maximum: 200 }),
    DATA_DIR: Type.String({ default: '.data' }),
    /** NATS_URL selects NATS JetStream; without it only the all-in-one process (in-process bus) runs. */
    NATS_URL: Type.Optional(Type.String({ minLength: 1 })),
    /** NATS_NAMESPACE prefixes streams and subjects so that several shops (or test runs) share a server. */
    NATS_NAMESPACE: Type.String({ default: '', pattern: '^[a-z0-9_-]*$' }),
    /** NATS_STREAM_REPLICAS is how many servers of a NATS cluster keep each stream: 3 on a cluster of three, 1 on one server. */
    NATS_STREAM_REPLICAS: Type.Integer({ default: 1, minimum: 1, maximum: 5 }),
    /**
     * NATS_STREAM_MAX_BYTES bounds each of the service's streams (oldest events dropped past it).
     * JetStream reserves it in the server's store when the stream is made, so several shops on
     * one server (namespaces) must fit their streams' sum in its store.
     */
    NATS_STREAM_MAX_BYTES: Type.Integer({ default: 1024 ** 3, minimum: 1024 ** 2 }),
    /** NATS_STREAM_MAX_AGE_SECONDS is how long a stream keeps an event: past the de-duplication window (120 s). */
    NATS_STREAM_MAX_AGE_SECONDS: Type.Integer({ default: 7 * 24 * 3600, minimum: 300 }),
    SHUTDOWN_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 100 }),
    /** REQUEST_TIMEOUT_MS is how long a client may take to send a request, headers and body: 408 past it. */
    REQUEST_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 100, maximum: 300_000 }),
    /** BODY_LIMIT_BYTES is the largest request body taken: 413 past it. */
    BODY_LIMIT_BYTES: Type.Integer({ default: 65_536, minimum: 1_024, maximum: 16_777_216 }),
    /**
     * TRUST_PROXY says whose X-Forwarded-For gives the client address. A service behind the gateway
     * believes the gateway on loopback and private networks (where compose and Kubernetes put it).
     */
    TRUST_PROXY: trustProxyEnv('loopback,uniquelocal'),
    /**
     * PUBLIC_BASE_PATH is where the gateway publishes this service's routes (`/api`): problems
     * name the public path of a request (`instance`), and orders the public `Location`. `/` for none.
     */
    PUBLIC_BASE_PATH: Type.String({ default: '/api', pattern: '^/$|^(/[A-Za-z0-9._~-]+)+$' }),
  } satisfies TProperties
}

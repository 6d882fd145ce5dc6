import { fileURLToPath } from 'node:url'
import Type, { type Static } from 'typebox'
import { tokenEnv } from '@microshop/platform/auth/token-settings'
import {
  ConfigError,
  loadEnv,
  serviceEnv,
  trustProxyEnv,
  type EnvSource,
} from '@microshop/platform/config'

const {
  HOST,
  PORT,
  LOG_LEVEL,
  SHUTDOWN_TIMEOUT_MS,
  METRICS_PORT,
  REQUEST_TIMEOUT_MS,
  BODY_LIMIT_BYTES,
} = serviceEnv(8080)
const { JWT_ISSUER, JWT_AUDIENCE } = tokenEnv()
// An upstream is one URL, or several comma-separated: replicas the gateway balances across (when
// nothing in front of them does, as a Kubernetes Service or Docker's DNS would).
const upstreamUrls = (defaultUrl: string) =>
  Type.String({
    default: defaultUrl,
    pattern: '^\\s*https?://[^,\\s]+\\s*(,\\s*https?://[^,\\s]+\\s*)*$',
  })
const optionalTimeoutMs = Type.Optional(Type.Integer({ minimum: 100, maximum: 300_000 }))
const DEFAULT_CORS_ORIGINS = 'http://localhost:5173,http://127.0.0.1:5173'
// DEFAULT_STOREFRONT_DIR is services/web/dist from both src/config.ts and the bundle, dist/main.js.
const DEFAULT_STOREFRONT_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url))

// GatewayEnv has no database or broker settings: the gateway keeps no state of its own.
const GatewayEnv = Type.Object({
  HOST,
  PORT,
  LOG_LEVEL,
  SHUTDOWN_TIMEOUT_MS,
  /** METRICS_PORT is where the gateway serves /metrics; never on its public port, so unset: nowhere. */
  METRICS_PORT,
  /** REQUEST_TIMEOUT_MS bounds how long a client may take to send a request, body included: 408 past it. */
  REQUEST_TIMEOUT_MS,
  USERS_URL: upstreamUrls('http://127.0.0.1:8081'),
  ORDERS_URL: upstreamUrls('http://127.0.0.1:8082'),
  PAYMENTS_URL: upstreamUrls('http://127.0.0.1:8083'),
  CATALOG_URL: upstreamUrls('http://127.0.0.1:8084'),
  /** UPSTREAM_TIMEOUT_MS bounds the wait for an upstream's response headers, and each pause in its body. */
  UPSTREAM_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 100, maximum: 300_000 }),
  /** <NAME>_UPSTREAM_TIMEOUT_MS overrides UPSTREAM_TIMEOUT_MS for one upstream. */
  USERS_UPSTREAM_TIMEOUT_MS: optionalTimeoutMs,
  ORDERS_UPSTREAM_TIMEOUT_MS: optionalTimeoutMs,
  PAYMENTS_UPSTREAM_TIMEOUT_MS: optionalTimeoutMs,
  CATALOG_UPSTREAM_TIMEOUT_MS: optionalTimeoutMs,
  /** UPSTREAM_CONNECTIONS caps the requests in flight, and the connections, to each upstream. */
  UPSTREAM_CONNECTIONS: Type.Integer({ default: 64, minimum: 1, maximum: 4_096 }),
  /** UPSTREAM_QUEUE_TIMEOUT_MS is how long a request may wait for one of them: 503 + Retry-After past it. */
  UPSTREAM_QUEUE_TIMEOUT_MS: Type.Integer({ default: 1_000, minimum: 1, maximum: 60_000 }),
  /** CLIENT_MAX_IN_FLIGHT is how many requests one client address may have open at once; 0 = no limit. */
  CLIENT_MAX_IN_FLIGHT: Type.Integer({ default: 64, minimum: 0 }),
  /** JWKS_URL is where the users service publishes its token keys; default: (the first) USERS_URL/auth/jwks.json. */
  JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  JWT_ISSUER,
  JWT_AUDIENCE,
  /** BODY_LIMIT_BYTES is the largest request body the gateway takes: the services' own limit by default. */
  BODY_LIMIT_BYTES,
  /** RATE_LIMIT_MAX is how many requests one client address may send per window; 0 turns the limit off. */
  RATE_LIMIT_MAX: Type.Integer({ default: 1_200, minimum: 0 }),
  /** AUTH_RATE_LIMIT_MAX is the stricter budget for sign-in and sign-up per client address and window. */
  AUTH_RATE_LIMIT_MAX: Type.Integer({ default: 20, minimum: 0 }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({ default: 60_000, minimum: 1_000 }),
  /** CORS_ORIGINS are the browser origins (comma-separated) allowed to call the API: the storefront. */
  CORS_ORIGINS: Type.String({ default: DEFAULT_CORS_ORIGINS }),
  /**
   * TRUST_PROXY names the load balancers in front, whose X-Forwarded-For gives the client address:
   * their count (1) or their addresses and CIDRs. Unset: the address of the connection.
   */
  TRUST_PROXY: trustProxyEnv(''),
  /** STOREFRONT_DIR is the built storefront the gateway serves at /; default: services/web/dist. */
  STOREFRONT_DIR: Type.String({ default: DEFAULT_STOREFRONT_DIR, minLength: 1 }),
  /**
   * SESSION_COOKIE_MAX_AGE_SECONDS is how long the browser keeps the storefront's session cookie;
   * match the users service's REFRESH_TOKEN_TTL_SECONDS.
   */
  SESSION_COOKIE_MAX_AGE_SECONDS: Type.Integer({ default: 2_592_000, minimum: 60 }),
})

type GatewayEnv = Static<typeof GatewayEnv>

export const upstreamNames = ['users', 'orders', 'payments', 'catalog'] as const
export type UpstreamName = (typeof upstreamNames)[number]

/** Upstream is a service behind the gateway: where it listens and how long to wait for it. */
export interface Upstream {
  name: UpstreamName
  /** url is the first of urls: where the gateway reads the service's documents and keys. */
  url: string
  /** urls are the service's replicas, one or more; requests are balanced across them. */
  urls: string[]
  timeoutMs: number
}

export type GatewayConfig = GatewayEnv & {
  upstreams: Record<UpstreamName, Upstream>
  jwksUrl: string
  corsOrigins: string[]
}

/** loadGatewayConfig parses the gateway's settings once at boot, listing every problem. */
export function loadGatewayConfig(source: EnvSource = process.env): GatewayConfig {
  const corsOrigins = (source.CORS_ORIGINS || DEFAULT_CORS_ORIGINS)
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '')
  const corsProblems = corsOrigins
    .filter((origin) => !/^https?:\/\/[^/]+$/.test(origin))
    .map((origin) => `CORS_ORIGINS: ${origin} is not an origin like https://shop.example.com`)
  let env: GatewayEnv
  try {
    env = loadEnv(GatewayEnv, source)
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError([...error.problems, ...corsProblems])
    throw error
  }
  if (corsProblems.length > 0) throw new ConfigError(corsProblems)
  const upstream = (name: UpstreamName, list: string, timeoutMs: number | undefined): Upstream => {
    const urls = list.split(',').map((url) => url.trim().replace(/\/+$/, ''))
    return { name, url: urls[0] as string, urls, timeoutMs: timeoutMs ?? env.UPSTREAM_TIMEOUT_MS }
  }
  const upstreams = {
    users: upstream('users', env.USERS_URL, env.USERS_UPSTREAM_TIMEOUT_MS),
    orders: upstream('orders', env.ORDERS_URL, env.ORDERS_UPSTREAM_TIMEOUT_MS),
    payments: upstream('payments', env.PAYMENTS_URL, env.PAYMENTS_UPSTREAM_TIMEOUT_MS),
    catalog: upstream('catalog', env.CATALOG_URL, env.CATALOG_UPSTREAM_TIMEOUT_MS),
  }
  return {
    ...env,
    upstreams,
    jwksUrl: env.JWKS_URL ?? `${upstreams.users.url}/auth/jwks.json`,
    corsOrigins,
  }
}

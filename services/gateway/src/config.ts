import Type, { type Static } from 'typebox'
import { ConfigError, loadEnv, serviceEnv, type EnvSource } from '@microshop/platform/config'

const { HOST, PORT, LOG_LEVEL, SHUTDOWN_TIMEOUT_MS } = serviceEnv(8080)
const url = (defaultUrl: string) => Type.String({ default: defaultUrl, pattern: '^https?://' })
const optionalTimeoutMs = Type.Optional(Type.Integer({ minimum: 100, maximum: 300_000 }))
const DEFAULT_CORS_ORIGINS = 'http://localhost:5173,http://127.0.0.1:5173'

// GatewayEnv has no database or broker settings: the gateway keeps no state of its own.
const GatewayEnv = Type.Object({
  HOST,
  PORT,
  LOG_LEVEL,
  SHUTDOWN_TIMEOUT_MS,
  USERS_URL: url('http://127.0.0.1:8081'),
  ORDERS_URL: url('http://127.0.0.1:8082'),
  PAYMENTS_URL: url('http://127.0.0.1:8083'),
  CATALOG_URL: url('http://127.0.0.1:8084'),
  /** UPSTREAM_TIMEOUT_MS bounds the wait for an upstream's response headers, and each pause in its body. */
  UPSTREAM_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 100, maximum: 300_000 }),
  /** <NAME>_UPSTREAM_TIMEOUT_MS overrides UPSTREAM_TIMEOUT_MS for one upstream. */
  USERS_UPSTREAM_TIMEOUT_MS: optionalTimeoutMs,
  ORDERS_UPSTREAM_TIMEOUT_MS: optionalTimeoutMs,
  PAYMENTS_UPSTREAM_TIMEOUT_MS: optionalTimeoutMs,
  CATALOG_UPSTREAM_TIMEOUT_MS: optionalTimeoutMs,
  /** UPSTREAM_CONNECTIONS caps the keep-alive connections the gateway opens to each upstream. */
  UPSTREAM_CONNECTIONS: Type.Integer({ default: 64, minimum: 1, maximum: 4_096 }),
  /** JWKS_URL is where the users service publishes its token keys; default: USERS_URL/auth/jwks.json. */
  JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  JWT_ISSUER: Type.String({ default: 'microshop', minLength: 1 }),
  JWT_AUDIENCE: Type.String({ default: 'microshop', minLength: 1 }),
  /** BODY_LIMIT_BYTES is the largest request body the gateway passes on. */
  BODY_LIMIT_BYTES: Type.Integer({ default: 1_048_576, minimum: 1_024 }),
  /** RATE_LIMIT_MAX is how many requests one client address may send per window; 0 turns the limit off. */
  RATE_LIMIT_MAX: Type.Integer({ default: 1_200, minimum: 0 }),
  /** AUTH_RATE_LIMIT_MAX is the stricter budget for sign-in and sign-up per client address and window. */
  AUTH_RATE_LIMIT_MAX: Type.Integer({ default: 20, minimum: 0 }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({ default: 60_000, minimum: 1_000 }),
  /** CORS_ORIGINS are the browser origins (comma-separated) allowed to call the API: the storefront. */
  CORS_ORIGINS: Type.String({ default: DEFAULT_CORS_ORIGINS }),
  /** TRUST_PROXY takes client addresses from X-Forwarded-For: set it behind a load balancer. */
  TRUST_PROXY: Type.Boolean({ default: false }),
})

type GatewayEnv = Static<typeof GatewayEnv>

export const upstreamNames = ['users', 'orders', 'payments', 'catalog'] as const
export type UpstreamName = (typeof upstreamNames)[number]

/** Upstream is a service behind the gateway: where it listens and how long to wait for it. */
export interface Upstream {
  name: UpstreamName
  url: string
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
  const upstream = (name: UpstreamName, url: string, timeoutMs: number | undefined): Upstream => ({
    name,
    url: url.replace(/\/+$/, ''),
    timeoutMs: timeoutMs ?? env.UPSTREAM_TIMEOUT_MS,
  })
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

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

/**
 * serviceEnv holds the settings every service reads: where to listen, how to log, which
 * database and broker to use. A service spreads it into its own schema with its own port.
 */
export function serviceEnv(defaultPort: number) {
  return {
    HOST: Type.String({ default: '0.0.0.0' }),
    PORT: Type.Integer({ default: defaultPort, minimum: 0, maximum: 65535 }),
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
    SHUTDOWN_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 100 }),
  } satisfies TProperties
}

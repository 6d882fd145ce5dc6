import { pino, type Logger, type LoggerOptions } from 'pino'
import { activeTraceIds } from './trace-context.ts'

export type { Logger }

/**
 * createLogger gives a service its JSON logger: one line per event, ISO times, the service
 * name and the active trace and span ids on every line, secrets redacted wherever they appear in a logged object, and errors
 * written without the data they carry (see serializeError).
 */
export function createLogger(options: { service: string; level: string }): Logger {
  return pino(loggerOptions(options))
}

export function loggerOptions(options: { service: string; level: string }): LoggerOptions {
  return {
    level: options.level,
    base: { service: options.service },
    // mixin puts the trace and span of the work running now on every line (what the OpenTelemetry
    // pino instrumentation does, without the require hook a bundle never triggers).
    mixin: activeTraceIds,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: serializeError, error: serializeError },
    redact: {
      paths: [
        'password',
        '*.password',
        'refreshToken',
        '*.refreshToken',
        'accessToken',
        '*.accessToken',
        'paymentMethod',
        '*.paymentMethod',
        'req.headers.authorization',
        'req.headers.cookie',
      ],
      censor: '[redacted]',
    },
  }
}

// SAFE_ERROR_FIELDS are the members of an error that say what went wrong without repeating the
// data it went wrong with. A database error also carries its SQL and bound parameters (PGlite:
// `query`, `params`) and Postgres' `detail` (`Key (email)=(ann@example.com) already exists.`):
// password hashes, emails, tokens, whatever the statement held. Those are never written.
const SAFE_ERROR_FIELDS = [
  'code',
  'kind',
  'statusCode',
  'severity',
  'routine',
  'schema',
  'table',
  'column',
  'constraint',
] as const

/**
 * serializeError writes an error as its type, message, stack and the fields in
 * SAFE_ERROR_FIELDS, with its cause (and an AggregateError's errors) written the same way.
 */
export function serializeError(error: unknown, depth = 0): unknown {
  if (error === null || typeof error !== 'object') return error
  const source = error as Record<string, unknown> & Partial<Error>
  const written: Record<string, unknown> = {
    type: source.constructor?.name ?? 'Object',
    message: typeof source.message === 'string' ? source.message : String(source.message),
  }
  if (typeof source.stack === 'string') written.stack = source.stack
  for (const field of SAFE_ERROR_FIELDS) {
    const value = source[field]
    if (typeof value === 'string' || typeof value === 'number') written[field] = value
  }
  if (depth < 8) {
    if (source.cause !== undefined) written.cause = serializeError(source.cause, depth + 1)
    if (Array.isArray(source.errors)) {
      written.errors = source.errors.map((inner: unknown) => serializeError(inner, depth + 1))
    }
  }
  return written
}

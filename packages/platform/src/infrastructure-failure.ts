// Postgres SQLSTATEs that mean the server is going away or not there yet, not that the statement
// was wrong: class 08 (connection exception), 57P01-57P03 (shut down by an administrator, a
// crash, or not yet accepting connections), 53300 (too many connections).
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[1-3]|53300)$/

// Node's socket errors, and the messages node-postgres and nats.js throw when their connection
// is gone or a pool cannot hand one out in time.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_REFUSED',
  'DISCONNECT',
  'TIMEOUT',
])
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Connection ended|the database system is (starting up|shutting down|in recovery mode)|terminating connection|no responders|connection closed|disconnected/i

/**
 * isInfrastructureFailure tells whether an error says a database or the broker is unreachable or
 * restarting, rather than that the work itself is wrong: such a failure is transient, answered
 * with 503 and Retry-After, and retried by consumers for as long as it lasts without counting
 * against the event's attempts. It looks through `cause` chains.
 */
export function isInfrastructureFailure(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (typeof current !== 'object') return false
    const { code, message, cause } = current as {
      code?: unknown
      message?: unknown
      cause?: unknown
    }
    if (
      typeof code === 'string' &&
      (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_CODES.has(code))
    ) {
      return true
    }
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true
    current = cause
  }
  return false
}

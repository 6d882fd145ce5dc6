type JsonObject = Record<string, unknown>

const PROBLEM = {
  'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
}
const REQUEST_ID = { $ref: '#/components/headers/XRequestId' }

/**
 * GATEWAY_COMPONENTS are the responses and headers of what the gateway itself answers on every
 * route it proxies, before or instead of the service: its rate limit (429) and a service that is
 * broken (502) or too slow (504). A service that is down is the 503 every service documents.
 */
export const GATEWAY_COMPONENTS = {
  responses: {
    TooManyRequests: {
      description:
        "Past this client address's budget (RATE_LIMIT_MAX per window, fewer for sign-in and " +
        'sign-up), or too many of its requests in flight; retry after `Retry-After` seconds.',
      headers: {
        'X-Request-Id': REQUEST_ID,
        'Retry-After': { $ref: '#/components/headers/RetryAfter' },
        'X-RateLimit-Limit': { $ref: '#/components/headers/RateLimitLimit' },
        'X-RateLimit-Remaining': { $ref: '#/components/headers/RateLimitRemaining' },
        'X-RateLimit-Reset': { $ref: '#/components/headers/RateLimitReset' },
      },
      content: PROBLEM,
    },
    BadGateway: {
      description: 'The service answered the gateway with something that is not an answer.',
      headers: { 'X-Request-Id': REQUEST_ID },
      content: PROBLEM,
    },
    GatewayTimeout: {
      description: 'The service did not answer the gateway in time.',
      headers: { 'X-Request-Id': REQUEST_ID },
      content: PROBLEM,
    },
  },
  headers: {
    RateLimitLimit: {
      description: "The gateway's rate limit: requests allowed per window (on its 429 only).",
      schema: { type: 'integer', minimum: 1 },
    },
    RateLimitRemaining: {
      description: 'Requests left in this window (on the gateway’s 429: 0).',
      schema: { type: 'integer', minimum: 0 },
    },
    RateLimitReset: {
      description: 'Seconds until the window starts afresh.',
      schema: { type: 'integer', minimum: 0 },
    },
  },
} satisfies Record<string, Record<string, JsonObject>>

const RATE_LIMIT_HEADERS = {
  'X-RateLimit-Limit': { $ref: '#/components/headers/RateLimitLimit' },
  'X-RateLimit-Remaining': { $ref: '#/components/headers/RateLimitRemaining' },
  'X-RateLimit-Reset': { $ref: '#/components/headers/RateLimitReset' },
}

/**
 * withGatewayResponses adds the gateway's own answers to an operation's responses: a 429, 502 and
 * 504 unless the service documents its own (a service's 429, e.g. the sign-in throttle, gains the
 * gateway's rate-limit headers, since either may answer it).
 */
export function withGatewayResponses(responses: Record<string, JsonObject>) {
  const own = responses['429']
  return {
    ...responses,
    '429':
      own === undefined
        ? { $ref: '#/components/responses/TooManyRequests' }
        : {
            ...own,
            headers: { ...(own.headers as JsonObject | undefined), ...RATE_LIMIT_HEADERS },
          },
    '502': responses['502'] ?? { $ref: '#/components/responses/BadGateway' },
    '504': responses['504'] ?? { $ref: '#/components/responses/GatewayTimeout' },
  }
}

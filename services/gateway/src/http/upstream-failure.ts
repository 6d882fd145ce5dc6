import { uriReference } from '@microshop/platform/http/app'
import type { FastifyReply, RawServerBase, RouteGenericInterface } from 'fastify'
import { problem } from '@microshop/platform/http/problem'
import type { Upstream } from '../config.ts'

/** UpstreamFailure is what the caller is told when a proxied request got no answer from its service. */
export interface UpstreamFailure {
  status: 502 | 503 | 504
  detail: string
}

// Codes as Node, undici and @fastify/reply-from name them, anywhere in the error's cause chain.
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'FST_REPLY_FROM_SERVICE_UNAVAILABLE',
])
const TOO_SLOW = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'FST_REPLY_FROM_TIMEOUT',
  'FST_REPLY_FROM_GATEWAY_TIMEOUT',
])
/**
 * classifyUpstreamFailure tells a service that is down or unreachable (503: nothing listens, so
 * the answer comes at once) from one that is too slow (504, after its timeout) and from one whose
 * answer broke off (502).
 */
export function classifyUpstreamFailure(upstream: Upstream, error: unknown): UpstreamFailure {
  const codes = errorCodes(error)
  if ([...codes].some((code) => UNREACHABLE.has(code))) {
    return {
      status: 503,
      detail: `The ${upstream.name} service is not reachable right now; try again shortly.`,
    }
  }
  if ([...codes].some((code) => TOO_SLOW.has(code))) {
    return {
      status: 504,
      detail: `The ${upstream.name} service did not answer within ${upstream.timeoutMs} ms.`,
    }
  }
  return { status: 502, detail: `The ${upstream.name} service did not give a usable answer.` }
}

/** sendUpstreamFailure answers a failed proxied request with its problem and logs why. */
export function sendUpstreamFailure(
  reply: FastifyReply<RouteGenericInterface, RawServerBase>,
  upstream: Upstream,
  error: unknown,
): void {
  const failure = classifyUpstreamFailure(upstream, error)
  // @fastify/reply-from has already logged the error itself, stack and all, at warn.
  const line = { upstream: upstream.name, status: failure.status, codes: [...errorCodes(error)] }
  reply.log.error(line, 'upstream failed')
  if (failure.status === 503) void reply.header('retry-after', '1')
  void reply
    .code(failure.status)
    .type('application/problem+json')
    .send(problem(failure.status, failure.detail, { instance: uriReference(reply.request.url) }))
}

/**
 * sendUpstreamBusy answers a request that waited its whole queue timeout for a connection to its
 * service: 503 with `Retry-After`, logged at warn (shedding load is the gateway doing its job).
 */
export function sendUpstreamBusy(
  reply: FastifyReply<RouteGenericInterface, RawServerBase>,
  upstream: Upstream,
  waitedMs: number,
) {
  reply.log.warn({ upstream: upstream.name, waitedMs }, 'upstream busy; request refused')
  return sendRetryShortly(
    reply,
    `The ${upstream.name} service is busy right now; try again shortly.`,
  )
}

/**
 * sendUpstreamAtCapacity answers a request its service said it has no room for (edge-admission.ts):
 * 503 with `Retry-After`, as the service itself would, without the wait for it to say so. The
 * request's own log line records it; shedding the excess is the shop working as meant.
 */
export function sendUpstreamAtCapacity(
  reply: FastifyReply<RouteGenericInterface, RawServerBase>,
  upstream: Upstream,
) {
  return sendRetryShortly(
    reply,
    `The ${upstream.name} service has as much work in flight as it can finish in time; try again shortly.`,
  )
}

// sendRetryShortly answers 503 with `Retry-After: 1`: the gateway shed the request on purpose.
function sendRetryShortly(
  reply: FastifyReply<RouteGenericInterface, RawServerBase>,
  detail: string,
) {
  return reply
    .code(503)
    .header('retry-after', '1')
    .type('application/problem+json')
    .send(problem(503, detail, { instance: uriReference(reply.request.url) }))
}

function errorCodes(error: unknown): Set<string> {
  const codes = new Set<string>()
  let current: unknown = error
  for (let depth = 0; depth < 8 && current !== null && typeof current === 'object'; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown }
    if (typeof code === 'string') codes.add(code)
    current = cause
  }
  return codes
}

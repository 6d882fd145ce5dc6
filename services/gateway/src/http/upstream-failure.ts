import type { FastifyReply, RawServerBase, RouteGenericInterface } from 'fastify'
import { problem } from '@microshop/platform/http/problem'
import type { Upstream } from '../config.ts'

/** UpstreamFailure is what the caller is told when a proxied request got no answer from its service. */
export interface UpstreamFailure {
  status: 413 | 502 | 503 | 504
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
const BODY_TOO_LARGE = 'FST_ERR_CTP_BODY_TOO_LARGE'

/**
 * classifyUpstreamFailure tells a service that is down or unreachable (503: nothing listens, so
 * the answer comes at once) from one that is too slow (504, after its timeout) and from one whose
 * answer broke off (502). A request body cut off for its size is the caller's 413.
 */
export function classifyUpstreamFailure(upstream: Upstream, error: unknown): UpstreamFailure {
  const codes = errorCodes(error)
  if (codes.has(BODY_TOO_LARGE)) {
    return { status: 413, detail: 'The request body is larger than the gateway accepts.' }
  }
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
  if (failure.status === 413) reply.log.info(line, 'request body over the limit')
  else reply.log.error(line, 'upstream failed')
  if (failure.status === 503) void reply.header('retry-after', '1')
  void reply
    .code(failure.status)
    .type('application/problem+json')
    .send(problem(failure.status, failure.detail, { instance: reply.request.url }))
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

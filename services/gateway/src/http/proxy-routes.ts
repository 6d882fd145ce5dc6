import { Readable } from 'node:stream'
import type { IncomingHttpHeaders } from 'node:http'
import proxy from '@fastify/http-proxy'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { isIP } from 'node:net'
import { Agent, BalancedPool, interceptors, type Dispatcher } from 'undici'
import type { AccessTokenVerifier } from '@microshop/platform/auth/access-token-verifier'
import { bearerToken } from '@microshop/platform/auth/bearer-auth'
import {
  ADMISSION_CAPACITY_HEADER,
  parseAdmissionCapacity,
} from '@microshop/platform/http/admission-capacity'
import type { HttpApp } from '@microshop/platform/http/app'
import type { Upstream, UpstreamName } from '../config.ts'
import { clientAddress } from './client-address.ts'
import { EdgeAdmission } from './edge-admission.ts'
import {
  sendUpstreamAtCapacity,
  sendUpstreamBusy,
  sendUpstreamFailure,
} from './upstream-failure.ts'
import { UpstreamSlots } from './upstream-slots.ts'

/**
 * Access says who may use a route: anyone, anyone for reads (writes need a token), or only
 * callers with a valid access token.
 */
export type Access = 'public' | 'public-reads' | 'signed-in'

/** ProxyRoute sends everything under a public prefix to one upstream, under the upstream's own prefix. */
export interface ProxyRoute {
  prefix: string
  upstream: UpstreamName
  rewritePrefix: string
  access: Access
  /**
   * admitsCreates: a POST to the prefix itself (a new order) goes on only while the upstream
   * says it has room for it, and is refused here otherwise (edge-admission.ts).
   */
  admitsCreates?: boolean
}

/** proxyRoutes is the public API's map: `/api/<x>` on the gateway is `/<x>` on the service that owns it. */
export const proxyRoutes: readonly ProxyRoute[] = [
  { prefix: '/api/auth', upstream: 'users', rewritePrefix: '/auth', access: 'public' },
  { prefix: '/api/users', upstream: 'users', rewritePrefix: '/users', access: 'signed-in' },
  {
    prefix: '/api/products',
    upstream: 'catalog',
    rewritePrefix: '/products',
    access: 'public-reads',
  },
  {
    prefix: '/api/orders',
    upstream: 'orders',
    rewritePrefix: '/orders',
    access: 'signed-in',
    admitsCreates: true,
  },
  {
    prefix: '/api/payments',
    upstream: 'payments',
    rewritePrefix: '/payments',
    access: 'signed-in',
  },
]

export interface ProxyRoutesOptions {
  upstreams: Record<UpstreamName, Upstream>
  verify: AccessTokenVerifier
  bodyLimitBytes: number
  connectionsPerUpstream: number
  /** upstreamQueueTimeoutMs is how long a request may wait for a free connection to its upstream. */
  upstreamQueueTimeoutMs: number
}

// OPTIONS is left to the CORS plugin, which answers preflights itself.
const PROXIED_METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT']
const READ_METHODS = new Set(['GET', 'HEAD'])

// IDENTITY_HEADER matches headers that claim who the caller is. No service trusts them, but a
// client must not be able to slip one past the gateway to a service that someday might. The
// client's address is one such claim: the gateway says it (X-Forwarded-For), the client does not.
const IDENTITY_HEADER =
  /^(?:x-(?:user|caller|auth|identity|principal|authenticated|remote-user|forwarded-user|real-ip)(?:-|$)|remote-user$|forwarded$)/

// DNS_TTL_MS is how long the addresses of an upstream's name are used before it is looked up again.
const DNS_TTL_MS = 5_000

// RETRYABLE_READ_CODES are failures that leave a read safe to send again: a keep-alive connection
// the upstream had just closed, or a replica that is down (with several, the retry goes to another).
const RETRYABLE_READ_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'ECONNREFUSED'])

/**
 * registerProxyRoutes forwards the public API to the services. Per request it does little: a
 * token check where the route needs one (the services check it again themselves), the request id,
 * trace context and client address set on the way out, and the body passed on untouched. The body
 * is read whole (under the size limit, within the request deadline) before a connection to the
 * upstream is taken, so a client that sends slowly holds no connection of anyone else's. Each
 * upstream has its own pool of keep-alive connections, as many requests in flight as connections
 * (a request waits for one up to the queue timeout, then gets a 503), and its own timeout, and its
 * requests go round its replicas: several URLs get a balanced pool, which sends each request to
 * the next one by weight and weighs down a replica that refuses connections; one URL whose name
 * has several addresses (a service scaled by compose, a headless Service) gets each request sent
 * to the next address. A failing upstream gets a 503 (down), 504 (too slow) or 502 (broken
 * answer) problem. Where an upstream bounds its work (orders' checkouts), the gateway forwards
 * only what it has room for, and refuses the rest at once (503 + Retry-After).
 */
export async function registerProxyRoutes(app: HttpApp, options: ProxyRoutesOptions) {
  for (const route of proxyRoutes) {
    const upstream = options.upstreams[route.upstream]
    const undiciOptions = {
      connections: options.connectionsPerUpstream,
      pipelining: 1,
      headersTimeout: upstream.timeoutMs,
      bodyTimeout: upstream.timeoutMs,
      connect: { timeout: Math.min(upstream.timeoutMs, 3_000) },
    }
    const slots = new UpstreamSlots(options.connectionsPerUpstream, options.upstreamQueueTimeoutMs)
    await app.register(async (scope) => {
      const dispatcher = upstreamDispatcher(upstream.urls, undiciOptions)
      scope.addHook('onClose', () => dispatcher.close())
      const admission = route.admitsCreates ? new EdgeAdmission() : undefined
      // Refused before anything else is done for it: no token check, no body read.
      if (admission) scope.addHook('onRequest', admitCreate(route, admission, upstream))
      if (route.access !== 'public') scope.addHook('onRequest', requireToken(route, options.verify))
      const bodyParser = { parseAs: 'buffer' as const, bodyLimit: options.bodyLimitBytes }
      scope.addContentTypeParser('application/json', bodyParser, bufferedBody)
      scope.addContentTypeParser('*', bodyParser, bufferedBody)
      scope.addHook('preHandler', takeSlot(slots, upstream))

      await scope.register(proxy, {
        upstream: upstream.url,
        prefix: route.prefix,
        rewritePrefix: route.rewritePrefix,
        httpMethods: PROXIED_METHODS,
        proxyPayloads: false,
        internalRewriteLocationHeader: false,
        disableRequestLogging: true,
        undici: dispatcher,
        replyOptions: {
          rewriteRequestHeaders: (request, headers) => outgoingHeaders(request, headers),
          rewriteHeaders: (headers, request) => {
            if (admission && request) {
              admission.answered(
                request,
                parseAdmissionCapacity(headers[ADMISSION_CAPACITY_HEADER]),
              )
            }
            return publicHeaders(headers, route)
          },
          onError: (reply, { error }) => sendUpstreamFailure(reply, upstream, error),
          // One retry, and only of a read that was never answered (see RETRYABLE_READ_CODES). A
          // write is not retried here: its body is a stream already on its way; the client
          // retries it with its Idempotency-Key after the 503.
          retryDelay: ({ err, req, attempt }) =>
            attempt === 0 &&
            READ_METHODS.has(req.method) &&
            RETRYABLE_READ_CODES.has((err as NodeJS.ErrnoException | undefined)?.code ?? '')
              ? 1
              : null,
        },
      })
    })
  }
}

/**
 * upstreamDispatcher balances over the upstream's replicas: the URLs given, or else the addresses
 * its name resolves to. Docker's DNS answers a scaled service's name with every replica, but the
 * system resolver sorts the addresses (RFC 6724), so connecting to the first would send nearly
 * everything to one replica; the DNS interceptor picks the next address for each request instead.
 */
function upstreamDispatcher(urls: string[], options: Agent.Options): Dispatcher {
  if (urls.length > 1) return new BalancedPool(urls, options)
  const agent = new Agent(options)
  const { hostname } = new URL(urls[0] as string)
  return isIP(hostname.replace(/^\[|\]$/g, ''))
    ? agent
    : agent.compose(interceptors.dns({ maxTTL: DNS_TTL_MS }))
}

// BufferedBody is a request body read whole, handed to the proxy as a stream (the proxy would
// re-encode a JSON body given as a value) with its length for Content-Length.
type BufferedBody = Readable & { byteLength: number }

function bufferedBody(
  _request: FastifyRequest,
  body: Buffer | string,
  done: (error: Error | null, body?: unknown) => void,
) {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  done(null, Object.assign(Readable.from([bytes]), { byteLength: bytes.length }))
}

// takeSlot holds a request, its body read, until its upstream has a free connection for it, and
// gives the connection back when the response is done (sent, or the client gone).
function takeSlot(slots: UpstreamSlots, upstream: Upstream) {
  return async (_request: FastifyRequest, reply: FastifyReply) => {
    if (!(await slots.acquire())) return sendUpstreamBusy(reply, upstream, slots.queueTimeoutMs)
    if (reply.raw.closed) slots.release()
    else reply.raw.once('close', () => slots.release())
  }
}

// admitCreate refuses a new resource (a POST to the route's prefix) its upstream has no room
// for. It runs first, as the headers arrive, so that a refusal costs no token check and no body
// read; one let through but then not sent (a bad token, a body over the limit) is pending until
// its answer is sent.
function admitCreate(route: ProxyRoute, admission: EdgeAdmission, upstream: Upstream) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'POST' || pathOf(request.url) !== route.prefix) return
    if (!admission.forward(request)) return sendUpstreamAtCapacity(reply, upstream)
    if (reply.raw.closed) admission.closed(request)
    else reply.raw.once('close', () => admission.closed(request))
  }
}

function pathOf(url: string): string {
  const query = url.indexOf('?')
  const path = query === -1 ? url : url.slice(0, query)
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
}

function requireToken(route: ProxyRoute, verify: AccessTokenVerifier) {
  return async (request: FastifyRequest) => {
    if (route.access === 'public-reads' && READ_METHODS.has(request.method)) return
    await verify(bearerToken(request.headers.authorization))
  }
}

// TRACE_HEADERS are the client's trace context and forwarding chain: the gateway's own span
// continues the client's trace, and the undici instrumentation sends its context onward.
const TRACE_HEADERS = new Set(['x-forwarded-for', 'traceparent', 'tracestate'])

function outgoingHeaders(
  request: Pick<FastifyRequest, 'id' | 'ip' | 'socket' | 'body'>,
  headers: IncomingHttpHeaders,
): IncomingHttpHeaders {
  for (const name of Object.keys(headers)) {
    if (IDENTITY_HEADER.test(name) || TRACE_HEADERS.has(name)) delete headers[name]
  }
  headers['x-request-id'] = request.id
  headers['x-forwarded-for'] = clientAddress(request)
  const body = request.body as BufferedBody | undefined
  if (body?.byteLength !== undefined) {
    delete headers['transfer-encoding']
    headers['content-length'] = String(body.byteLength)
  }
  return headers
}

// publicHeaders drops the upstream connection's own headers (RFC 9110: hop-by-hop) and its word
// on its room (for the gateway alone), which are not the client's, and turns a service's own path
// in Location (`/orders/1`) into the public one (`/api/orders/1`); absolute URLs and other paths
// pass unchanged.
function publicHeaders(headers: IncomingHttpHeaders, route: ProxyRoute): IncomingHttpHeaders {
  delete headers.connection
  delete headers['keep-alive']
  delete headers[ADMISSION_CAPACITY_HEADER]
  const { location } = headers
  if (
    location !== undefined &&
    (location === route.rewritePrefix ||
      location.startsWith(`${route.rewritePrefix}/`) ||
      location.startsWith(`${route.rewritePrefix}?`))
  ) {
    headers.location = route.prefix + location.slice(route.rewritePrefix.length)
  }
  return headers
}

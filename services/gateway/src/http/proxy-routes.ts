import { pipeline, Transform, type TransformCallback } from 'node:stream'
import type { IncomingHttpHeaders } from 'node:http'
import proxy from '@fastify/http-proxy'
import { errorCodes, type FastifyRequest } from 'fastify'
import type { AccessTokenVerifier } from '@microshop/platform/auth/access-token-verifier'
import { bearerToken } from '@microshop/platform/auth/bearer-auth'
import type { HttpApp } from '@microshop/platform/http/app'
import type { Upstream, UpstreamName } from '../config.ts'
import { sendUpstreamFailure } from './upstream-failure.ts'

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
  { prefix: '/api/orders', upstream: 'orders', rewritePrefix: '/orders', access: 'signed-in' },
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
}

// OPTIONS is left to the CORS plugin, which answers preflights itself.
const PROXIED_METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT']
const READ_METHODS = new Set(['GET', 'HEAD'])

// IDENTITY_HEADER matches headers that claim who the caller is. No service trusts them, but a
// client must not be able to slip one past the gateway to a service that someday might.
const IDENTITY_HEADER =
  /^(?:x-(?:user|caller|auth|identity|principal|authenticated|remote-user|forwarded-user)(?:-|$)|remote-user$)/

// STALE_SOCKET_CODES are how undici reports a keep-alive connection the upstream had just closed.
const STALE_SOCKET_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET'])

/**
 * registerProxyRoutes forwards the public API to the services. Per request it does little: a
 * token check where the route needs one (the services check it again themselves), the request id
 * and trace context set on the way out, and the body streamed through untouched under the size
 * limit. Each upstream has its own pool of keep-alive connections and its own timeout; a
 * failing upstream gets a 503 (down), 504 (too slow) or 502 (broken answer) problem.
 */
export async function registerProxyRoutes(app: HttpApp, options: ProxyRoutesOptions) {
  for (const route of proxyRoutes) {
    const upstream = options.upstreams[route.upstream]
    await app.register(async (scope) => {
      if (route.access !== 'public') scope.addHook('onRequest', requireToken(route, options.verify))
      scope.addContentTypeParser('application/json', streamBody(options.bodyLimitBytes))
      scope.addContentTypeParser('*', streamBody(options.bodyLimitBytes))

      await scope.register(proxy, {
        upstream: upstream.url,
        prefix: route.prefix,
        rewritePrefix: route.rewritePrefix,
        httpMethods: PROXIED_METHODS,
        proxyPayloads: false,
        internalRewriteLocationHeader: false,
        disableRequestLogging: true,
        undici: {
          connections: options.connectionsPerUpstream,
          pipelining: 1,
          headersTimeout: upstream.timeoutMs,
          bodyTimeout: upstream.timeoutMs,
          connect: { timeout: Math.min(upstream.timeoutMs, 3_000) },
        },
        replyOptions: {
          rewriteRequestHeaders: (request, headers) => outgoingHeaders(request, headers),
          rewriteHeaders: (headers) => publicHeaders(headers, route),
          onError: (reply, { error }) => sendUpstreamFailure(reply, upstream, error),
          // One retry, and only of a read that failed on a connection the upstream had just closed.
          retryDelay: ({ err, req, attempt }) =>
            attempt === 0 &&
            READ_METHODS.has(req.method) &&
            STALE_SOCKET_CODES.has((err as NodeJS.ErrnoException | undefined)?.code ?? '')
              ? 1
              : null,
        },
      })
    })
  }
}

function requireToken(route: ProxyRoute, verify: AccessTokenVerifier) {
  return async (request: FastifyRequest) => {
    if (route.access === 'public-reads' && READ_METHODS.has(request.method)) return
    await verify(bearerToken(request.headers.authorization))
  }
}

function outgoingHeaders(
  request: Pick<FastifyRequest, 'id' | 'trace'>,
  headers: IncomingHttpHeaders,
): IncomingHttpHeaders {
  for (const name of Object.keys(headers)) {
    if (IDENTITY_HEADER.test(name)) delete headers[name]
  }
  headers['x-request-id'] = request.id
  headers.traceparent = request.trace.traceparent
  return headers
}

// publicHeaders drops the upstream connection's own headers (RFC 9110: hop-by-hop), which are
// not the client's, and turns a service's own path in Location (`/orders/1`) into the public one
// (`/api/orders/1`); absolute URLs and other paths pass unchanged.
function publicHeaders(headers: IncomingHttpHeaders, route: ProxyRoute): IncomingHttpHeaders {
  delete headers.connection
  delete headers['keep-alive']
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

/**
 * streamBody hands the request body to the proxy as the stream it is, without parsing it: a body
 * whose Content-Length is over the limit is refused at once, and a chunked one is cut off when it
 * passes the limit.
 */
function streamBody(limitBytes: number) {
  return (
    request: FastifyRequest,
    payload: NodeJS.ReadableStream,
    done: (error: Error | null, body?: unknown) => void,
  ) => {
    const declared = request.headers['content-length']
    if (declared !== undefined) {
      if (Number(declared) > limitBytes) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
      return done(null, payload)
    }
    const limited = new ByteLimit(limitBytes)
    pipeline(payload, limited, () => undefined)
    done(null, limited)
  }
}

/** ByteLimit passes bytes through until there are more than the limit, then fails with a 413. */
class ByteLimit extends Transform {
  private seen = 0

  constructor(private readonly limitBytes: number) {
    super()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.seen += chunk.length
    if (this.seen > this.limitBytes) callback(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
    else callback(null, chunk)
  }
}

import { randomUUID } from 'node:crypto'
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawServerDefault,
} from 'fastify'
import swagger from '@fastify/swagger'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { unavailable } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import { finishOpenapiDocument } from './openapi-document.ts'
import { sharedSerializers } from './response-serialization.ts'
import { problem, problemFromError, ProblemSchema, type Problem } from './problem.ts'
import { problemTypePage } from './problem-types.ts'
import { requestValidators } from './request-validation.ts'
import { trace } from '@opentelemetry/api'
import { activeTrace, traceOfHeaders, type TraceContext } from '../trace-context.ts'

export type HttpApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  Logger,
  TypeBoxTypeProvider
>

declare module 'fastify' {
  interface FastifyRequest {
    /** trace is this request's W3C trace context, to pass on to events and outgoing calls. */
    trace: TraceContext
  }
}

export interface HttpAppOptions {
  service: string
  logger: Logger
  metrics: Metrics
  openapi: {
    title: string
    description: string
    version?: string
    /** tags name and describe the tags of the app's operations. */
    tags?: { name: string; description: string }[]
    /** document replaces the app's own document at /openapi.json (the gateway serves the merged one). */
    document?: () => Promise<unknown>
  }
  bodyLimitBytes?: number
  /**
   * requestTimeoutMs bounds how long a client may take to send a request, headers and body:
   * past it the answer is a 408 and the connection is closed, so a slow client holds nothing.
   */
  requestTimeoutMs?: number
  /**
   * trustProxy says which proxies' X-Forwarded-For to believe for the client address: a hop count
   * or a list of addresses and CIDRs (Fastify's option; see config.ts, trustedProxies).
   */
  trustProxy?: number | string[] | false
  /**
   * publicBasePath is where clients reach this app's routes (`/api` behind the gateway): a
   * problem's `instance` is the public path of the request, never the service's own.
   */
  publicBasePath?: string
  /** serveMetrics adds GET /metrics to this app; false when metrics have a port of their own. */
  serveMetrics?: boolean
}

const REQUEST_ID = /^[\w.:-]{1,128}$/
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
// Node looks for requests past their deadline this often (its default is 30 s).
const TIMEOUT_CHECK_INTERVAL_MS = 1_000

// SECURITY_HEADERS go on every response: no MIME sniffing, no framing of any page (the docs
// included), and nothing kept in caches unless a route says otherwise (JWKS is public).
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "frame-ancestors 'none'",
  'cache-control': 'no-store',
}
const QUIET_ROUTES = new Set(['/health/live', '/health/ready', '/metrics'])

/** RequestLogController writes one line per request, when it completes; probes log at debug. */
class RequestLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'requestId' })
  }
  override incomingRequest(): void {}
  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = {
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
      ...(error ? { err: error } : {}),
    }
    if (error) request.log.error(line, 'request errored')
    else if (QUIET_ROUTES.has(request.routeOptions.url ?? ''))
      request.log.debug(line, 'request completed')
    else request.log.info(line, 'request completed')
  }
}

/**
 * createHttpApp builds a service's Fastify app with what every service shares: TypeBox
 * validation, request ids and trace ids on every log line, one log line per request, problem
 * responses for every error, the request histogram, and the OpenAPI document at /openapi.json.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  const publicBasePath = options.publicBasePath ?? ''
  const instanceOf = (request: FastifyRequest) => uriReference(publicBasePath + request.url)
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new RequestLogController(),
    requestIdHeader: false,
    genReqId: (raw) => {
      const header = raw.headers['x-request-id']
      return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID()
    },
    bodyLimit: options.bodyLimitBytes ?? 64 * 1024,
    schemaController: {
      compilersFactory: {
        buildValidator: requestValidators(),
        buildSerializer: sharedSerializers(),
      },
    },
    ajv: { customOptions: { allErrors: true, removeAdditional: false } },
    // Fastify's own answer to a request that arrives while it closes (on a kept-alive
    // connection) is a bare 503 with no Retry-After: the hook below answers a problem instead.
    return503OnClosing: false,
    trustProxy: trustedProxies(options.trustProxy),
    requestTimeout: requestTimeoutMs,
    http: {
      requestTimeout: requestTimeoutMs,
      headersTimeout: requestTimeoutMs,
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, requestTimeoutMs),
    },
    clientErrorHandler: answerClientError,
    // Errors Fastify meets before a route runs (a path that does not decode, ...) are problems too.
    frameworkErrors: (error, request, reply) => {
      const response = problemFromError(error)
      void (reply as FastifyReply)
        .code(response.problem.status)
        .headers({ ...SECURITY_HEADERS, ...response.headers })
        .type('application/problem+json')
        .send({ ...response.problem, instance: instanceOf(request) })
    },
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.decorateRequest('trace', null as unknown as TraceContext)
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onRequest', async (request, reply) => {
    // The HTTP instrumentation's server span is active: name it by the route, as the
    // conventions ask (`POST /orders`), and hand its context to what the request does.
    const span = trace.getActiveSpan()
    const route = request.routeOptions.url
    if (span?.isRecording() && route !== undefined) {
      span.updateName(`${request.method} ${route}`).setAttribute('http.route', route)
    }
    request.trace = span ? activeTrace() : traceOfHeaders(request.headers)
    void reply.headers(SECURITY_HEADERS).header('x-request-id', request.id)
    if (closing) {
      // The client (the gateway's pool, say) drops this connection and retries on another.
      void reply.header('connection', 'close')
      throw unavailable('This instance is shutting down; please retry.')
    }
  })
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    options.metrics.httpRequestDuration.observe(
      { method: request.method, route, status_code: reply.statusCode },
      reply.elapsedTime / 1000,
    )
    if (reply.statusCode === 429) options.metrics.rateLimited.inc({ route })
  })

  app.setErrorHandler((error, request, reply) => {
    const response = problemFromError(error)
    if (!response.expected) request.log.error({ err: error }, 'request failed')
    return reply
      .code(response.problem.status)
      .headers(response.headers)
      .type('application/problem+json')
      .send({ ...response.problem, instance: instanceOf(request) })
  })
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type('application/problem+json')
      .send(
        problem(404, `No route for ${request.method} ${request.url.split('?')[0]}.`, {
          instance: instanceOf(request),
        }),
      ),
  )

  await app.register(swagger, {
    // Shared schemas are named by their $id in the document (`Problem`), not `def-0`.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: options.openapi.title,
        description: options.openapi.description,
        version: options.openapi.version ?? '1.0.0',
      },
      ...(options.openapi.tags === undefined ? {} : { tags: options.openapi.tags }),
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
  })
  app.addSchema(ProblemSchema)
  let own: unknown
  const document =
    options.openapi.document ??
    (async () =>
      (own ??= finishOpenapiDocument(app.swagger(), {
        servers: [
          {
            url: '/',
            description: `The ${options.service} service itself; clients reach it through the gateway, under ${publicBasePath || '/'}.`,
          },
        ],
      })))
  app.get('/openapi.json', { schema: { hide: true } }, () => document())
  // A problem's `type` (`/problems/not-found`) resolves against whichever app answered it.
  const sendProblemTypePage = (
    slug: string | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ) => {
    const page = problemTypePage(slug)
    if (page === undefined) {
      return reply
        .code(404)
        .type('application/problem+json')
        .send(problem(404, 'No such problem type.', { instance: instanceOf(request) }))
    }
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(page)
  }
  app.get('/problems', { schema: { hide: true } }, (request, reply) =>
    sendProblemTypePage(undefined, request, reply),
  )
  app.get<{ Params: { slug: string } }>(
    '/problems/:slug',
    { schema: { hide: true } },
    (request, reply) => sendProblemTypePage(request.params.slug, request, reply),
  )
  if (options.serveMetrics ?? true) {
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type(options.metrics.registry.contentType)
        .send(await options.metrics.registry.metrics()),
    )
  }
  return app
}

// URI_CHARACTERS are the characters RFC 3986 allows in a URI reference, a `%` only before two hex
// digits; anything else in a request target (Node lets some through) is percent-encoded.
const NOT_URI_CHARACTER = /%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]/gu

/**
 * uriReference makes a request target a valid URI reference, so that a problem's `instance` is one
 * even when the client sent `?q=%E0%A4%A`: stray characters are percent-encoded as UTF-8.
 */
export function uriReference(target: string): string {
  return target.replace(NOT_URI_CHARACTER, (character) =>
    [...Buffer.from(character, 'utf8')]
      .map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)
      .join(''),
  )
}

// trustedProxies turns a hop count into the function Fastify takes for one: the first `hops`
// addresses from the socket back are proxies of ours.
function trustedProxies(setting: HttpAppOptions['trustProxy']) {
  if (typeof setting !== 'number') return setting ?? false
  return (_address: string, hop: number) => hop < setting
}

/**
 * answerClientError answers what Node's HTTP parser refuses before Fastify sees a request: a
 * request that did not arrive within its deadline (408), headers too large (431), anything
 * malformed (400). The answer is a problem, and the connection is closed after it.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  // A response already under way cannot be replaced without corrupting it.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  if (socket.writable && !inFlight?.headersSent) {
    const answer = clientErrorProblem(error.code)
    const body = JSON.stringify(answer)
    const headers = {
      ...SECURITY_HEADERS,
      'content-type': 'application/problem+json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    }
    socket.write(
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n` +
        Object.entries(headers)
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('') +
        `\r\n${body}`,
    )
  }
  socket.destroy(error)
}

function clientErrorProblem(code: string | undefined): Problem {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return problem(408, 'The request did not arrive in time; the connection is closed.')
  }
  if (code === 'HPE_HEADER_OVERFLOW') return problem(431, 'The request headers are too large.')
  return problem(400, 'The request is not well-formed HTTP.')
}

import { randomUUID } from 'node:crypto'
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  type RawServerDefault,
} from 'fastify'
import swagger from '@fastify/swagger'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import { problem, problemFromError, ProblemSchema } from './problem.ts'
import { traceOfRequest, type TraceContext } from './trace-context.ts'

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
    /** document replaces the app's own document at /openapi.json (the gateway serves the merged one). */
    document?: () => Promise<unknown>
  }
  bodyLimitBytes?: number
  /** trustProxy takes the client address from X-Forwarded-For (Fastify's option), behind a load balancer. */
  trustProxy?: FastifyServerOptions['trustProxy']
}

const REQUEST_ID = /^[\w.:-]{1,128}$/
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
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new RequestLogController(),
    requestIdHeader: false,
    genReqId: (raw) => {
      const header = raw.headers['x-request-id']
      return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID()
    },
    childLoggerFactory: (logger, bindings, childOptions, raw) =>
      logger.child({ ...bindings, traceId: traceOfRequest(raw).traceId }, childOptions),
    bodyLimit: options.bodyLimitBytes ?? 64 * 1024,
    ajv: { customOptions: { allErrors: true, coerceTypes: 'array', removeAdditional: false } },
    return503OnClosing: true,
    trustProxy: options.trustProxy ?? false,
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.decorateRequest('trace', null as unknown as TraceContext)
  app.addHook('onRequest', async (request, reply) => {
    request.trace = traceOfRequest(request.raw)
    void reply.header('x-request-id', request.id)
  })
  app.addHook('onResponse', async (request, reply) => {
    options.metrics.httpRequestDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: reply.statusCode,
      },
      reply.elapsedTime / 1000,
    )
  })

  app.setErrorHandler((error, request, reply) => {
    const response = problemFromError(error)
    if (!response.expected) request.log.error({ err: error }, 'request failed')
    return reply
      .code(response.problem.status)
      .headers(response.headers)
      .type('application/problem+json')
      .send({ ...response.problem, instance: request.url })
  })
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type('application/problem+json')
      .send(
        problem(404, `No route for ${request.method} ${request.url.split('?')[0]}.`, {
          instance: request.url,
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
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
  })
  app.addSchema(ProblemSchema)
  const document = options.openapi.document ?? (async () => app.swagger())
  app.get('/openapi.json', { schema: { hide: true } }, () => document())
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics()),
  )
  return app
}

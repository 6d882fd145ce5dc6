import swagger from '@fastify/swagger'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { HttpApp } from '@microshop/platform/http/app'
import type { MergedOpenapi } from '../openapi/merged-openapi.ts'

/**
 * registerDocsRoutes serves Swagger UI at /docs over the merged document of every service, so
 * the whole API can be tried from a browser: sign in, press Authorize, check out. The UI reads
 * the document from /docs/json, which serves the same merged document as /openapi.json.
 *
 * The UI (@fastify/swagger-ui, with its static file server and YAML writer: 8 MB of a gateway's
 * resident memory, decision 0017) is loaded by the first request under /docs, into a Fastify
 * instance of its own that the gateway's /docs routes pass each request to; its answer goes out
 * through the gateway's reply, with the gateway's hooks and headers. A gateway that nobody
 * browses never loads it.
 */
export function registerDocsRoutes(app: HttpApp, openapi: MergedOpenapi) {
  let ui: Promise<FastifyInstance> | undefined
  const serve = async (request: FastifyRequest, reply: FastifyReply) => {
    ui ??= startDocsUi(openapi).catch((error: unknown) => {
      ui = undefined
      throw error
    })
    // A HEAD is asked as a GET: Fastify's HEAD route sends the GET's headers without its body.
    const answer = await (
      await ui
    ).inject({ method: 'GET', url: request.url, headers: request.headers })
    if (answer.statusCode === 404) return reply.callNotFound()
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !SET_BY_THE_GATEWAY.has(name)) void reply.header(name, value)
    }
    // An answer without a body (a redirect, a 304) is sent without one, and so without a type.
    const body = answer.rawPayload.length > 0 ? answer.rawPayload : undefined
    return reply.code(answer.statusCode).send(body)
  }
  // The UI's own paths (its page, the document, its files), and no others: any other path
  // under /docs is the gateway's 404, as they would be with the UI registered on the gateway itself.
  for (const path of ['/docs', '/docs/', '/docs/json', '/docs/yaml', '/docs/static/*']) {
    app.get(path, { schema: { hide: true } }, serve)
  }
}

// SET_BY_THE_GATEWAY are the headers of the UI's answer that describe its own connection and
// body framing, which the gateway's reply sets for itself.
const SET_BY_THE_GATEWAY = new Set([
  'connection',
  'content-length',
  'date',
  'keep-alive',
  'transfer-encoding',
])

async function startDocsUi(openapi: MergedOpenapi): Promise<FastifyInstance> {
  // An external package (scripts/build.ts): it is read from node_modules only now.
  const { default: swaggerUi } = await import('@fastify/swagger-ui')
  const ui = Fastify({ logger: false })
  // @fastify/swagger-ui serves what @fastify/swagger holds, which transformSpecification replaces.
  await ui.register(swagger, { openapi: { openapi: '3.1.0', info: { title: '', version: '' } } })
  await ui.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: {
      persistAuthorization: true,
      displayRequestDuration: true,
      tryItOutEnabled: true,
      docExpansion: 'list',
      defaultModelsExpandDepth: 0,
    },
    uiHooks: {
      // transformSpecification cannot wait, so the document is brought up to date before it runs.
      preHandler: (request, _reply, done) => {
        const path = request.routeOptions.url ?? ''
        if (!path.endsWith('/json') && !path.endsWith('/yaml')) return done()
        openapi.document().then(
          () => done(),
          (error: Error) => done(error),
        )
      },
    },
    transformSpecificationClone: false,
    transformSpecification: (own) => openapi.latest() ?? own,
  })
  await ui.ready()
  return ui
}

import swaggerUi from '@fastify/swagger-ui'
import type { HttpApp } from '@microshop/platform/http/app'
import type { MergedOpenapi } from '../openapi/merged-openapi.ts'

/**
 * registerDocsRoutes serves Swagger UI at /docs over the merged document of every service, so
 * the whole API can be tried from a browser: sign in, press Authorize, check out. The UI reads
 * the document from /docs/json, which serves the same merged document as /openapi.json.
 */
export async function registerDocsRoutes(app: HttpApp, openapi: MergedOpenapi) {
  await app.register(swaggerUi, {
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
        const route = request.routeOptions.url ?? ''
        if (!route.endsWith('/json') && !route.endsWith('/yaml')) return done()
        openapi.document().then(
          () => done(),
          (error: Error) => done(error),
        )
      },
    },
    transformSpecificationClone: false,
    transformSpecification: (own) => openapi.latest() ?? own,
  })
}

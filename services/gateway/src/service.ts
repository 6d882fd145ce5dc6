import cors from '@fastify/cors'
import { createAccessTokenVerifier } from '@microshop/platform/auth/access-token-verifier'
import { cacheVerifiedTokens } from '@microshop/platform/auth/verified-token-cache'
import type { HttpApp } from '@microshop/platform/http/app'
import { startService, type ServiceDeps } from '@microshop/platform/service-runtime'
import type { GatewayConfig } from './config.ts'
import { registerBrowserSessionRoutes } from './http/browser-session-routes.ts'
import { registerDocsRoutes } from './http/docs-routes.ts'
import { proxyRoutes, registerProxyRoutes } from './http/proxy-routes.ts'
import { inFlightLimit } from './http/client-in-flight.ts'
import { createRateLimitHook } from './http/rate-limits.ts'
import { registerStorefrontRoutes } from './http/storefront-routes.ts'
import { upstreamReadinessChecks } from './http/upstream-readiness.ts'
import { API_INFO, createMergedOpenapi } from './openapi/merged-openapi.ts'

/**
 * startGatewayService runs the single public entry on HOST:PORT: `/api/*` proxied to the
 * services (token check on protected routes, rate limits, CORS, request id and trace context
 * passed on), the merged OpenAPI document at /openapi.json with Swagger UI at /docs, and health
 * that reports every upstream. It keeps no state, so it can start before the services do.
 */
export function startGatewayService(config: GatewayConfig, deps: ServiceDeps = {}) {
  return startService('gateway', config, deps, async (runtime) => {
    const { users, catalog, orders, payments } = config.upstreams
    const upstreams = [users, catalog, orders, payments]
    const openapi = createMergedOpenapi({ upstreams, routes: proxyRoutes, logger: runtime.logger })
    const app = await runtime.createHttpApp({
      openapi: { ...API_INFO, document: () => openapi.document() },
      readiness: upstreamReadinessChecks(upstreams),
      // The gateway's port is public: its metrics are on METRICS_PORT only.
      servesPublic: true,
    })
    await app.register(cors, {
      origin: config.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
      exposedHeaders: ['location', 'retry-after', 'x-request-id', 'x-ratelimit-remaining'],
      maxAge: 600,
    })
    await registerStorefrontRoutes(app, { directory: config.STOREFRONT_DIR })
    const rateLimits = await createRateLimitHook(app, {
      maxPerWindow: config.RATE_LIMIT_MAX,
      signInMaxPerWindow: config.AUTH_RATE_LIMIT_MAX,
      windowMs: config.RATE_LIMIT_WINDOW_MS,
    })
    // The public API and its docs count against the client limits; health, metrics and the
    // storefront's files do not.
    await app.register(async (api: HttpApp) => {
      if (config.CLIENT_MAX_IN_FLIGHT > 0) {
        api.addHook('onRequest', inFlightLimit(config.CLIENT_MAX_IN_FLIGHT))
      }
      api.addHook('onRequest', rateLimits)
      registerDocsRoutes(api, openapi)
      registerBrowserSessionRoutes(api, config)
      await registerProxyRoutes(api, {
        upstreams: config.upstreams,
        verify: cacheVerifiedTokens(
          createAccessTokenVerifier({
            jwksUrl: config.jwksUrl,
            issuer: config.JWT_ISSUER,
            audience: config.JWT_AUDIENCE,
          }),
        ),
        bodyLimitBytes: config.BODY_LIMIT_BYTES,
        connectionsPerUpstream: config.UPSTREAM_CONNECTIONS,
        upstreamQueueTimeoutMs: config.UPSTREAM_QUEUE_TIMEOUT_MS,
      })
    })
    return { app, metricsPort: runtime.metricsListener?.port }
  })
}

export type GatewayService = Awaited<ReturnType<typeof startGatewayService>>

import cors from '@fastify/cors'
import { createAccessTokenVerifier } from '@microshop/platform/auth/access-token-verifier'
import { cacheVerifiedTokens } from '@microshop/platform/auth/verified-token-cache'
import { createHttpApp, type HttpApp } from '@microshop/platform/http/app'
import { registerHealthRoutes } from '@microshop/platform/http/health'
import { createLogger, type Logger } from '@microshop/platform/logger'
import { createMetrics, type Metrics } from '@microshop/platform/metrics'
import type { GatewayConfig } from './config.ts'
import { registerDocsRoutes } from './http/docs-routes.ts'
import { proxyRoutes, registerProxyRoutes } from './http/proxy-routes.ts'
import { createRateLimitHook } from './http/rate-limits.ts'
import { upstreamReadinessChecks } from './http/upstream-readiness.ts'
import { API_INFO, createMergedOpenapi } from './openapi/merged-openapi.ts'

export interface GatewayServiceDeps {
  logger?: Logger
  metrics?: Metrics
}

export interface GatewayService {
  app: HttpApp
  close: () => Promise<void>
}

/**
 * startGatewayService runs the single public entry on HOST:PORT: `/api/*` proxied to the
 * services (token check on protected routes, rate limits, CORS, request id and trace context
 * passed on), the merged OpenAPI document at /openapi.json with Swagger UI at /docs, and health
 * that reports every upstream. It keeps no state, so it can start before the services do.
 * close() stops taking requests, finishes the ones in flight and closes the upstream pools.
 */
export async function startGatewayService(
  config: GatewayConfig,
  deps: GatewayServiceDeps = {},
): Promise<GatewayService> {
  const logger = deps.logger ?? createLogger({ service: 'gateway', level: config.LOG_LEVEL })
  const { users, catalog, orders, payments } = config.upstreams
  const upstreams = [users, catalog, orders, payments]
  const openapi = createMergedOpenapi({ upstreams, routes: proxyRoutes, logger })
  const app = await createHttpApp({
    service: 'gateway',
    logger,
    metrics: deps.metrics ?? createMetrics('gateway'),
    openapi: { ...API_INFO, document: () => openapi.document() },
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
  })
  try {
    await app.register(cors, {
      origin: config.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
      exposedHeaders: ['location', 'retry-after', 'x-request-id', 'x-ratelimit-remaining'],
      maxAge: 600,
    })
    registerHealthRoutes(app, upstreamReadinessChecks(upstreams))
    const rateLimits = await createRateLimitHook(app, {
      maxPerWindow: config.RATE_LIMIT_MAX,
      signInMaxPerWindow: config.AUTH_RATE_LIMIT_MAX,
      windowMs: config.RATE_LIMIT_WINDOW_MS,
    })
    // The public API and its docs count against the rate limits; health and metrics do not.
    await app.register(async (api: HttpApp) => {
      api.addHook('onRequest', rateLimits)
      await registerDocsRoutes(api, openapi)
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
      })
    })
    await app.listen({ host: config.HOST, port: config.PORT })
    return { app, close: () => app.close() }
  } catch (error) {
    await app.close()
    throw error
  }
}

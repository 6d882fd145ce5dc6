// all-in-one.ts: the whole shop in one Node process (`npm start`, and the end-to-end tests of that
// mode). Each service runs as it would alone, on its own port, with its own embedded Postgres
// (PGlite) under DATA_DIR/<service>; they share one in-process event broker in place of NATS.
import type { EnvSource } from '@microshop/platform/config'
import { InProcessBroker } from '@microshop/platform/events/in-process-event-bus'
import { startTelemetry } from '@microshop/platform/telemetry'
import type { SpanProcessor } from '@opentelemetry/sdk-trace'
import { loadCatalogConfig } from '../services/catalog/src/config.ts'
import { startCatalogService } from '../services/catalog/src/service.ts'
import { loadGatewayConfig } from '../services/gateway/src/config.ts'
import { startGatewayService } from '../services/gateway/src/service.ts'
import { loadOrdersConfig } from '../services/orders/src/config.ts'
import { startOrdersService } from '../services/orders/src/service.ts'
import { loadPaymentsConfig } from '../services/payments/src/config.ts'
import { startPaymentsService } from '../services/payments/src/service.ts'
import { loadUsersConfig } from '../services/users/src/config.ts'
import { startUsersService } from '../services/users/src/service.ts'
import { shopUrls, type BackendService, type ServiceName, type ShopPorts } from './shop-layout.ts'

interface Running {
  close: () => Promise<void>
}

type StartBackend = (env: EnvSource, broker: InProcessBroker) => Promise<Running>

/** backends says how to start each service in this process: one line per service. */
// The process's own metrics (CPU, memory, event loop) are the gateway's: one copy, not five.
const backends: Record<BackendService, StartBackend> = {
  users: (env) => startUsersService(loadUsersConfig(env), { processMetrics: false }),
  catalog: (env, broker) =>
    startCatalogService(loadCatalogConfig(env), { broker, processMetrics: false }),
  orders: (env, broker) =>
    startOrdersService(loadOrdersConfig(env), { broker, processMetrics: false }),
  payments: (env, broker) =>
    startPaymentsService(loadPaymentsConfig(env), { broker, processMetrics: false }),
}

export interface AllInOneOptions {
  /** env is the environment every service reads its own settings from (LOG_LEVEL, ADMIN_*...). */
  env: EnvSource
  /** dataDir holds each service's PGlite database; `memory://` keeps them in memory (tests). */
  dataDir: string
  ports: ShopPorts
  /** gatewayHost is where the gateway listens; the services listen on 127.0.0.1 only. */
  gatewayHost: string
  /** beforeGateway is waited for before the gateway starts: the storefront's build, made meanwhile. */
  beforeGateway?: Promise<unknown>
  /** spanProcessors see every span of the shop (tests: an in-memory exporter). */
  spanProcessors?: SpanProcessor[]
  /** onReady hears of each service once it has migrated its database, seeded it and listens. */
  onReady?: (service: ServiceName) => void
}

export interface AllInOne {
  /** stop closes one service, as if it crashed politely: for tests of what the others do then. */
  stop(service: BackendService): Promise<void>
  /** close closes every service, the gateway first, so nothing new arrives while the rest finish. */
  close(): Promise<void>
}

/**
 * startAllInOne starts every service in this process: the backends side by side, then the
 * gateway in front of them. If one fails to start, the ones already running are closed and the
 * error is thrown. Settings that would take a service out of this mode (DATABASE_URL, NATS_URL)
 * are not passed on: each service keeps its own embedded database and the shared broker.
 */
export async function startAllInOne(options: AllInOneOptions): Promise<AllInOne> {
  // One tracer provider for the process; each span names its service, and the OTLP export
  // (OTEL_EXPORTER_OTLP_ENDPOINT) sends it under that service's name (decision 0013).
  const telemetry = startTelemetry({
    serviceName: 'microshop',
    env: options.env,
    servicesShareProcess: true,
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
  })
  const shared: EnvSource = {
    ...options.env,
    ...shopUrls(options.ports),
    DATA_DIR: options.dataDir,
  }
  delete shared.DATABASE_URL
  delete shared.NATS_URL
  // METRICS_PORT is one port, so it is the gateway's, whose own port is public; the services
  // serve their metrics on their own ports, which the gateway does not route.
  delete shared.METRICS_PORT
  const broker = new InProcessBroker()
  const running = new Map<string, Running>()
  const closeAll = async () => {
    const gateway = running.get('gateway')
    running.delete('gateway')
    await gateway?.close()
    const backendsRunning = [...running.values()].reverse()
    running.clear()
    for (const service of backendsRunning) await service.close()
    await telemetry.forceFlush().catch(() => undefined)
  }

  const started = await Promise.allSettled(
    (Object.keys(backends) as BackendService[]).map(async (name) => {
      const portEnv = { HOST: '127.0.0.1', PORT: String(options.ports[name]) }
      running.set(name, await backends[name]({ ...shared, ...portEnv }, broker))
      options.onReady?.(name)
    }),
  )
  const failed = started.find((result) => result.status === 'rejected')
  if (failed) {
    await closeAll()
    throw failed.reason
  }
  try {
    await options.beforeGateway
    const gatewayEnv = {
      ...shared,
      HOST: options.gatewayHost,
      PORT: String(options.ports.gateway),
      METRICS_PORT: options.env.METRICS_PORT,
    }
    running.set('gateway', await startGatewayService(loadGatewayConfig(gatewayEnv)))
    options.onReady?.('gateway')
  } catch (error) {
    await closeAll()
    throw error
  }

  return {
    async stop(service) {
      const target = running.get(service)
      running.delete(service)
      await target?.close()
    },
    close: closeAll,
  }
}

import type { InProcessBroker } from './events/in-process-event-bus.ts'
import { trustedProxies } from './config.ts'
import { createHttpApp, type HttpApp, type HttpAppOptions } from './http/app.ts'
import { registerHealthRoutes, type ReadinessCheck } from './http/health.ts'
import { startMetricsListener, type MetricsListener } from './http/metrics-listener.ts'
import { startPeriodicJob, type PeriodicJobOptions } from './jobs/periodic-job.ts'
import { createLogger, type Logger } from './logger.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import { ensureTelemetry, registerServicePort, withService } from './telemetry.ts'

/** ServiceSettings are the settings of serviceEnv that every service's runtime reads. */
export interface ServiceSettings {
  HOST: string
  PORT: number
  LOG_LEVEL: string
  METRICS_PORT?: number | undefined
  REQUEST_TIMEOUT_MS?: number | undefined
  BODY_LIMIT_BYTES?: number | undefined
  TRUST_PROXY?: string | undefined
  PUBLIC_BASE_PATH?: string | undefined
}

/**
 * ServiceDeps are what a caller may hand a service instead of letting it make its own: the
 * all-in-one process's in-process broker, a shared logger or metrics registry, a test's clock.
 */
export interface ServiceDeps {
  logger?: Logger
  metrics?: Metrics
  /** broker is the all-in-one process's in-process broker, used when NATS_URL is not set. */
  broker?: InProcessBroker
  /** now is the clock of the use cases and jobs; tests move it. */
  now?: () => Date
  /**
   * processMetrics is false for a service sharing its process with another that reports the
   * process's CPU, memory and event loop (the embedded mode: the gateway).
   */
  processMetrics?: boolean
}

/**
 * ServiceRuntime opens what every service runs on: its logger and metrics, its periodic jobs and
 * its HTTP app with health. The four services with a database and events run on its extension,
 * BackendRuntime (backend-runtime.ts), which opens those first; the gateway, which has neither,
 * runs on this one and carries no database or broker code. Each thing a runtime opens registers
 * its closer; `close()` runs them once, in reverse, so HTTP stops first and the database closes
 * last.
 */
export class ServiceRuntime<Settings extends ServiceSettings = ServiceSettings> {
  readonly logger: Logger
  readonly metrics: Metrics
  readonly now: () => Date
  private readonly closers: (() => Promise<void>)[] = []
  /** readiness are the checks /health/ready runs besides the app's own: what the runtime opened. */
  protected readonly readiness: Record<string, ReadinessCheck> = {}
  private closing: Promise<void> | undefined
  /** metricsListener is the port of its own that serves /metrics, when METRICS_PORT is set. */
  metricsListener: MetricsListener | undefined

  constructor(
    readonly service: string,
    protected readonly settings: Settings,
    protected readonly deps: ServiceDeps = {},
  ) {
    ensureTelemetry(service)
    this.logger = deps.logger ?? createLogger({ service, level: settings.LOG_LEVEL })
    this.metrics =
      deps.metrics ?? createMetrics(service, { processMetrics: deps.processMetrics ?? true })
    this.now = deps.now ?? (() => new Date())
  }

  /** onClose registers something to close when the service closes, before what was opened earlier. */
  onClose(closer: () => Promise<void>): void {
    this.closers.push(closer)
  }

  /** startJob runs a periodic job (a sweeper, a reconciler, a pruner) until the service closes. */
  startJob(options: Omit<PeriodicJobOptions, 'logger'>): void {
    const job = startPeriodicJob({
      ...options,
      run: () => withService(this.service, options.run),
      logger: this.logger,
    })
    this.onClose(() => job.stop())
  }

  /**
   * createHttpApp builds the service's HTTP app (see platform/http/app.ts) from the settings
   * every service shares (request deadline, body limit, trusted proxies, public base path), with
   * its health routes: ready when the database and the bus this runtime opened answer, and
   * `readiness`. With METRICS_PORT, /metrics is served there instead; a public app
   * (`servesPublic`: the gateway) serves it nowhere else.
   */
  async createHttpApp(
    options: Omit<HttpAppOptions, 'service' | 'logger' | 'metrics' | 'serveMetrics'> & {
      readiness?: Record<string, ReadinessCheck>
      servesPublic?: boolean
    },
  ): Promise<HttpApp> {
    const { readiness, servesPublic = false, ...appOptions } = options
    const { METRICS_PORT, REQUEST_TIMEOUT_MS, BODY_LIMIT_BYTES, TRUST_PROXY, PUBLIC_BASE_PATH } =
      this.settings
    if (METRICS_PORT !== undefined) {
      this.metricsListener = await startMetricsListener({
        host: this.settings.HOST,
        port: METRICS_PORT,
        metrics: this.metrics,
      })
      const listener = this.metricsListener
      this.onClose(() => listener.close())
    }
    const app = await createHttpApp({
      ...(REQUEST_TIMEOUT_MS === undefined ? {} : { requestTimeoutMs: REQUEST_TIMEOUT_MS }),
      ...(BODY_LIMIT_BYTES === undefined ? {} : { bodyLimitBytes: BODY_LIMIT_BYTES }),
      ...(TRUST_PROXY === undefined ? {} : { trustProxy: trustedProxies(TRUST_PROXY) ?? false }),
      ...(PUBLIC_BASE_PATH === undefined || PUBLIC_BASE_PATH === '/'
        ? {}
        : { publicBasePath: PUBLIC_BASE_PATH }),
      ...appOptions,
      serveMetrics: METRICS_PORT === undefined && !servesPublic,
      service: this.service,
      logger: this.logger,
      metrics: this.metrics,
    })
    this.onClose(() => app.close())
    registerHealthRoutes(app, { ...this.readiness, ...readiness })
    return app
  }

  /** close runs every closer once, the last opened first; a failing one does not stop the rest. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const failures: unknown[] = []
      for (const closer of this.closers.reverse()) {
        await closer().catch((error: unknown) => failures.push(error))
      }
      if (failures.length > 0) throw new AggregateError(failures, `closing ${this.service} failed`)
    })()
    return this.closing
  }
}

/** RunningService is a started service: its HTTP app, and close(). */
export interface RunningService {
  app: HttpApp
  close(): Promise<void>
}

/**
 * startService runs `start` on a new runtime and then listens on HOST:PORT. If anything fails
 * on the way, what was opened is closed again and the error thrown.
 */
export function startService<Started extends { app: HttpApp }>(
  service: string,
  settings: ServiceSettings,
  deps: ServiceDeps,
  start: (runtime: ServiceRuntime) => Promise<Started>,
): Promise<Started & RunningService> {
  return runService(new ServiceRuntime(service, settings, deps), settings, start)
}

/** runService runs `start` on `runtime`, then listens; on failure it closes what was opened. */
export async function runService<Runtime extends ServiceRuntime, Started extends { app: HttpApp }>(
  runtime: Runtime,
  settings: ServiceSettings,
  start: (runtime: Runtime) => Promise<Started>,
): Promise<Started & RunningService> {
  try {
    const started = await start(runtime)
    await started.app.listen({ host: settings.HOST, port: settings.PORT })
    const address = started.app.server.address()
    if (address && typeof address === 'object') registerServicePort(runtime.service, address.port)
    return { ...started, close: () => runtime.close() }
  } catch (error) {
    await runtime.close().catch(() => undefined)
    throw error
  }
}

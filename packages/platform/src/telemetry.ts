// telemetry.ts starts the OpenTelemetry SDK for a process: the tracer provider, the W3C trace
// context propagator, the async-local-storage context, and the instrumentations of the HTTP
// server (node:http) and outgoing calls (undici and fetch); a module only some services load
// (Postgres: db/postgres-spans.ts) adds its own with instrumentWhileExporting. Decision 0013 says
// why the instrumentations are applied to the modules directly rather than through require
// hooks: the services run as esbuild bundles, where no `require('pg')` ever happens to hook.
import { createRequire } from 'node:module'
import type { IncomingMessage } from 'node:http'
import {
  context,
  propagation,
  trace,
  type Context,
  type Span,
  type TextMapPropagator,
} from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici'
import { envDetector, detectResources, resourceFromAttributes } from '@opentelemetry/resources'
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace'

/** SERVICE_ATTRIBUTE names the microshop service a span belongs to (several share the embedded process). */
export const SERVICE_ATTRIBUTE = 'microshop.service'

/** TelemetryOptions say how a process traces. */
export interface TelemetryOptions {
  /** serviceName is the resource's `service.name` (OTEL_SERVICE_NAME overrides it). */
  serviceName: string
  /**
   * env holds the standard OTEL_* settings: OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT)
   * turns OTLP/HTTP export on, OTEL_TRACES_EXPORTER=none off, OTEL_TRACES_SAMPLER(_ARG) samples,
   * OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES describe the resource, OTEL_BSP_* batch the
   * export. The exporter reads
   * its own OTEL_EXPORTER_OTLP_* settings (headers, timeout, compression) from process.env.
   */
  env?: Record<string, string | undefined>
  /** spanProcessors are added to (tests: an in-memory exporter's) or replace the OTLP export. */
  spanProcessors?: SpanProcessor[]
  /**
   * servicesShareProcess is set by the embedded mode: each span is exported under the resource
   * of the service it belongs to (SERVICE_ATTRIBUTE), not the process's.
   */
  servicesShareProcess?: boolean
}

/** Telemetry is the started SDK: flush it before exit, shut it down to stop. */
export interface Telemetry {
  readonly exporting: boolean
  forceFlush(): Promise<void>
  shutdown(): Promise<void>
}

interface Started extends Telemetry {
  provider: TracerProvider
  /** patches take off what instrumentWhileExporting applied while this SDK exports. */
  patches: (() => void)[]
  unpatch(): void
}

/**
 * SpanInstrumentation patches a module so that its work makes spans under `provider`, and returns
 * how to take the patch off.
 */
export type SpanInstrumentation = (provider: TracerProvider) => () => void

// spanInstrumentations are applied while spans are exported, by every SDK started after they
// were added and by the one running when they are.
const spanInstrumentations = new Set<SpanInstrumentation>()

/**
 * instrumentWhileExporting makes a module's work spans whenever spans go somewhere (Postgres
 * statements: db/postgres-spans.ts); it carries no trace context, so without an export it is
 * not applied and its module pays nothing. Adding the same one again changes nothing.
 */
export function instrumentWhileExporting(instrumentation: SpanInstrumentation): void {
  if (spanInstrumentations.has(instrumentation)) return
  spanInstrumentations.add(instrumentation)
  const started = globals[STARTED]
  if (started?.exporting) started.patches.push(instrumentation(started.provider))
}

// The SDK is per process, and the OpenTelemetry API keeps its globals on globalThis: a test
// runner reusing a worker for another file (a fresh module graph) must find and replace it.
const STARTED = Symbol.for('microshop.telemetry')
const globals = globalThis as { [STARTED]?: Started }

/** servicesByPort tells which service listens on a local port: the embedded mode's HTTP spans. */
const servicesByPort = new Map<number, string>()
/** SERVICE_KEY marks the service of the work running in a context (consumers, jobs). */
export const SERVICE_KEY = Symbol.for('microshop.service')

/**
 * startTelemetry starts the SDK for this process, replacing one started before. Without an OTLP
 * endpoint nothing is exported and roots are not sampled (unless OTEL_TRACES_SAMPLER says
 * otherwise): trace ids still travel and reach the logs, at the cost of no recorded spans.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  globals[STARTED]?.unpatch()
  void globals[STARTED]?.shutdown().catch(() => undefined)
  const env = options.env ?? {}
  const exporterWanted =
    (env.OTEL_TRACES_EXPORTER || 'otlp') !== 'none' &&
    Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
  const processors = [...(options.spanProcessors ?? [])]
  if (exporterWanted) {
    let exporter: SpanExporter = new OTLPTraceExporter()
    if (options.servicesShareProcess) exporter = new ResourcePerService(exporter)
    processors.push(new BatchSpanProcessor({ exporter, ...batchSettings(env) }))
  }
  const exporting = processors.length > 0
  const resource = resourceFromAttributes({ 'service.name': options.serviceName }).merge(
    detectResources({ detectors: [envDetector] }),
  )
  const provider = new TracerProvider({
    resource,
    sampler: samplerFrom(env, exporting),
    spanProcessors: [new ServiceAttribution(), ...processors],
  })

  trace.disable()
  context.disable()
  propagation.disable()
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  trace.setGlobalTracerProvider(provider)
  const unpatchTransport = instrument(provider)
  const patches = exporting ? [...spanInstrumentations].map((apply) => apply(provider)) : []
  const unpatch = () => {
    unpatchTransport()
    for (const patch of patches.splice(0)) patch()
  }

  const started: Started = {
    exporting,
    provider,
    patches,
    forceFlush: () => provider.forceFlush(),
    shutdown: async () => {
      unpatch()
      await provider.shutdown()
    },
    unpatch,
  }
  globals[STARTED] = started
  return started
}

/**
 * ensureTelemetry starts the SDK with no export if nothing started it: a service started by a
 * test or script still joins incoming traces and passes them on.
 */
export function ensureTelemetry(serviceName: string): void {
  if (!globals[STARTED]) startTelemetry({ serviceName })
}

/** registerServicePort notes which service listens on `port`, for the spans of its requests. */
export function registerServicePort(service: string, port: number): void {
  servicesByPort.set(port, service)
}

/** withService runs `work` as `service`'s: spans started inside name it. */
export function withService<T>(service: string, work: () => T): T {
  return context.with(context.active().setValue(SERVICE_KEY, service), work)
}

/** tracer is the platform's own tracer (events, saga steps, jobs), the SDK started if need be. */
export function tracer() {
  ensureTelemetry('microshop')
  return trace.getTracer('microshop')
}

/** w3c is the propagator of event envelopes, whatever the global one is. */
export const w3c: TextMapPropagator = new W3CTraceContextPropagator()

/** contextOf reads a traceparent (an event's) as a context to parent or link spans to. */
export function contextOf(traceparent: string | undefined): Context | undefined {
  if (!traceparent) return undefined
  const extracted = w3c.extract(context.active(), { traceparent }, headerGetter)
  return trace.getSpanContext(extracted) ? extracted : undefined
}

/** traceparentOf writes a span's context as a traceparent value. */
export function traceparentOf(span: Span): string {
  const carrier: Record<string, string> = {}
  w3c.inject(trace.setSpan(context.active(), span), carrier, headerSetter)
  return carrier.traceparent ?? ''
}

const headerGetter = {
  get: (carrier: Record<string, string>, key: string) => carrier[key],
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
}
const headerSetter = {
  set: (carrier: Record<string, string>, key: string, value: string) => {
    carrier[key] = value
  },
}

// batchSettings are the standard OTEL_BSP_* settings of the batch span processor.
function batchSettings(env: Record<string, string | undefined>) {
  const settings: Record<string, number> = {}
  const keys = {
    OTEL_BSP_SCHEDULE_DELAY: 'scheduledDelayMillis',
    OTEL_BSP_EXPORT_TIMEOUT: 'exportTimeoutMillis',
    OTEL_BSP_MAX_QUEUE_SIZE: 'maxQueueSize',
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 'maxExportBatchSize',
  } as const
  for (const [key, option] of Object.entries(keys)) {
    const value = Number(env[key])
    if (env[key] !== undefined && Number.isFinite(value) && value > 0) settings[option] = value
  }
  return settings
}

function samplerFrom(env: Record<string, string | undefined>, exporting: boolean): Sampler {
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG || '1')
  const rootRatio = new TraceIdRatioBasedSampler(Number.isFinite(ratio) ? ratio : 1)
  switch (env.OTEL_TRACES_SAMPLER) {
    case 'always_on':
      return new AlwaysOnSampler()
    case 'always_off':
      return new AlwaysOffSampler()
    case 'traceidratio':
      return rootRatio
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() })
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() })
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: rootRatio })
    default:
      return new ParentBasedSampler({
        root: exporting ? new AlwaysOnSampler() : new AlwaysOffSampler(),
      })
  }
}

// instrument applies the HTTP server and undici instrumentations to the modules themselves,
// which works the same from source and from a bundle, and returns how to take them off again.
// They carry trace contexts in and out, so they are always on.
function instrument(provider: TracerProvider): () => void {
  const require = createRequire(import.meta.url)
  const http = new HttpInstrumentation({
    enabled: false,
    disableOutgoingRequestInstrumentation: true,
    ignoreIncomingRequestHook: (request) => QUIET_PATHS.test(request.url ?? ''),
    startIncomingSpanHook: (request: IncomingMessage) => {
      const service = servicesByPort.get(request.socket.localPort ?? 0)
      return service ? { [SERVICE_ATTRIBUTE]: service } : {}
    },
  })
  // The undici instrumentation listens on diagnostics channels, which bundled and global undici
  // (fetch) both publish on; it starts listening when made.
  // A request that already carries a trace context (a client's own) is left as it is.
  const undici = new UndiciInstrumentation({
    ignoreRequestHook: (request) =>
      Array.isArray(request.headers)
        ? request.headers.some((value, i) => i % 2 === 0 && /^traceparent$/i.test(String(value)))
        : /(^|\r\n)traceparent:/i.test(request.headers),
  })
  for (const instrumentation of [http, undici]) {
    instrumentation.setTracerProvider(provider)
  }
  const unpatchHttp = patchModule(http, 'http', require('node:http') as object)
  return () => {
    unpatchHttp()
    undici.disable()
  }
}

/**
 * patchModule applies an instrumentation's patch for module `name` to that module's exports (the
 * bundled module itself, not one loaded through a require hook), and returns how to take it off.
 */
export function patchModule(
  // Every OpenTelemetry instrumentation has this method (InstrumentationBase's).
  instrumentation: Pick<HttpInstrumentation, 'getModuleDefinitions'>,
  name: string,
  exports: object,
): () => void {
  const definition = instrumentation.getModuleDefinitions().find((d) => d.name === name)
  definition?.patch?.(exports)
  return () => definition?.unpatch?.(exports)
}

// QUIET_PATHS are probes and scrapes: no trace for them.
const QUIET_PATHS = /^\/(health\/(live|ready)|metrics)(\?|$)/

/**
 * ServiceAttribution names each span's service (SERVICE_ATTRIBUTE): the one its work runs as
 * (withService), else its parent's. In the embedded mode this tells apart five services that
 * share one process and one tracer provider.
 */
class ServiceAttribution implements SpanProcessor {
  onStart(span: Span & { attributes?: Record<string, unknown> }, parent: Context): void {
    if (span.attributes?.[SERVICE_ATTRIBUTE] !== undefined) return
    const service =
      (parent.getValue(SERVICE_KEY) as string | undefined) ??
      ((trace.getSpan(parent) as { attributes?: Record<string, unknown> } | undefined)
        ?.attributes?.[SERVICE_ATTRIBUTE] as string | undefined)
    if (service !== undefined) span.setAttribute(SERVICE_ATTRIBUTE, service)
  }
  onEnd(): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve()
  }
  shutdown(): Promise<void> {
    return Promise.resolve()
  }
}

/**
 * ResourcePerService exports each span under its own service's resource (`service.name` from
 * SERVICE_ATTRIBUTE), so that a backend such as Jaeger shows the embedded process's five
 * services as five.
 */
class ResourcePerService implements SpanExporter {
  private readonly resources = new Map<string, ReadableSpan['resource']>()
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.inner.export(
      spans.map((span) => {
        const service = span.attributes[SERVICE_ATTRIBUTE]
        if (typeof service !== 'string') return span
        let resource = this.resources.get(service)
        if (!resource) {
          resource = span.resource.merge(resourceFromAttributes({ 'service.name': service }))
          this.resources.set(service, resource)
        }
        return Object.create(span, { resource: { value: resource } }) as ReadableSpan
      }),
      done,
    )
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown()
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve()
  }
}

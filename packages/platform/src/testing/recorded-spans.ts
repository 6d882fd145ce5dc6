// recorded-spans.ts: spans as the tests read them, whether recorded in the test's process (an
// in-memory exporter) or received over OTLP/HTTP from other processes (a receiver of the test's own).
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace'
import { SERVICE_ATTRIBUTE } from '../telemetry.ts'

/** RecordedSpan is one span, flattened: ids in hex, kind in words, its service, its attributes. */
export interface RecordedSpan {
  traceId: string
  spanId: string
  parentSpanId: string | undefined
  name: string
  kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer'
  service: string
  attributes: Record<string, unknown>
  links: { traceId: string; spanId: string }[]
}

const KINDS = ['internal', 'server', 'client', 'producer', 'consumer'] as const
const text = (value: unknown) => (typeof value === 'string' ? value : '')

/** inMemorySpans records every span of this process, for a test to read. */
export function inMemorySpans() {
  const exporter = new InMemorySpanExporter()
  return {
    processor: new SimpleSpanProcessor({ exporter }),
    spans: (): RecordedSpan[] => exporter.getFinishedSpans().map(fromReadable),
  }
}

function fromReadable(span: ReadableSpan): RecordedSpan {
  const context = span.spanContext()
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    kind: KINDS[span.kind] ?? 'internal',
    service: text(span.attributes[SERVICE_ATTRIBUTE] ?? span.resource.attributes['service.name']),
    attributes: { ...span.attributes },
    links: span.links.map((link) => ({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
    })),
  }
}

interface OtlpValue {
  stringValue?: string
  intValue?: string | number
  doubleValue?: number
  boolValue?: boolean
  arrayValue?: { values?: OtlpValue[] }
}
interface OtlpAttribute {
  key: string
  value: OtlpValue
}
interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes?: OtlpAttribute[]
  links?: { traceId: string; spanId: string }[]
}
interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] }
    scopeSpans?: { spans?: OtlpSpan[] }[]
  }[]
}

const valueOf = (value: OtlpValue): unknown =>
  value.stringValue ??
  (value.intValue === undefined ? undefined : Number(value.intValue)) ??
  value.doubleValue ??
  value.boolValue ??
  value.arrayValue?.values?.map(valueOf)

const attributesOf = (attributes: OtlpAttribute[] = []) =>
  Object.fromEntries(attributes.map((attribute) => [attribute.key, valueOf(attribute.value)]))

/**
 * OtlpReceiver is an OTLP/HTTP trace receiver (JSON encoding, as @opentelemetry/exporter-trace-
 * otlp-http sends it): point OTEL_EXPORTER_OTLP_ENDPOINT at `url`.
 */
export interface OtlpReceiver {
  url: string
  spans(): RecordedSpan[]
  /** requests counts the export requests received. */
  requests(): number
  close(): Promise<void>
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: RecordedSpan[] = []
  let requests = 0
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end()
        return
      }
      if (!String(request.headers['content-type']).startsWith('application/json')) {
        response.writeHead(415).end()
        return
      }
      requests++
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpRequest
      for (const resourceSpans of body.resourceSpans ?? []) {
        const resource = attributesOf(resourceSpans.resource?.attributes)
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            const attributes = attributesOf(span.attributes)
            received.push({
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId || undefined,
              name: span.name,
              // OTLP numbers kinds from 1 (internal); 0 is unspecified.
              kind: KINDS[span.kind - 1] ?? 'internal',
              service: text(attributes[SERVICE_ATTRIBUTE] ?? resource['service.name']),
              attributes,
              links: (span.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })),
            })
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => [...received],
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

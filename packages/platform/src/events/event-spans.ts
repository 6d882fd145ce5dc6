// event-spans.ts: the spans of an event's life, by the OpenTelemetry messaging conventions. An
// event is created (`create`, a producer span, in the work that wrote it to the outbox), published
// by the relay (`send`, a producer span) and processed by each consumer (`process`, a consumer
// span per delivery). The envelope's `traceparent` is the create span's context, stored with the
// event in the outbox row and the broker's message, so the relay and every delivery (a redelivery
// too, or a publish after a crash) join the same trace, parented to and linked with it.
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
} from '@opentelemetry/api'
import type { CloudEvent } from '@microshop/contracts/envelope'
import { contextOf, SERVICE_ATTRIBUTE, traceparentOf, tracer } from '../telemetry.ts'

/**
 * createEventSpan records the creation of an event in the work running now (or, when the caller
 * passes the traceparent of other work, that), and returns the traceparent the envelope carries.
 */
export function createEventSpan(type: string, id: string, traceparent: string | undefined) {
  const active = context.active()
  const given = contextOf(traceparent)
  const activeTraceId = trace.getSpanContext(active)?.traceId
  const parent = given && trace.getSpanContext(given)?.traceId !== activeTraceId ? given : active
  const span = tracer().startSpan(
    `create ${type}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'microshop',
        'messaging.operation.type': 'create',
        'messaging.destination.name': type,
        'messaging.message.id': id,
      },
    },
    parent,
  )
  span.end()
  return traceparentOf(span)
}

/** publishSpan runs the relay's publish of one event in a `send` span of the event's trace. */
export async function publishSpan<T>(
  event: CloudEvent,
  service: string | undefined,
  publish: () => Promise<T>,
): Promise<T> {
  const parent = contextOf(event.traceparent)
  if (!parent) return publish()
  const span = tracer().startSpan(
    `send ${event.type}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'microshop',
        'messaging.operation.type': 'send',
        'messaging.destination.name': event.type,
        'messaging.message.id': event.id,
        ...(service ? { [SERVICE_ATTRIBUTE]: service } : {}),
      },
    },
    parent,
  )
  try {
    return await context.with(trace.setSpan(context.active(), span), publish)
  } catch (error) {
    failed(span, error)
    throw error
  } finally {
    span.end()
  }
}

/**
 * processSpan starts a consumer's `process` span for one delivery: a child of the event's create
 * span, linked to it, in the consuming service. The caller ends it.
 */
export function processSpan(options: {
  type: string
  id: string | undefined
  traceparent: string | undefined
  consumer: string
  attempt: number
}): Span {
  const parent = contextOf(options.traceparent)
  const created = parent ? trace.getSpanContext(parent) : undefined
  return tracer().startSpan(
    `process ${options.type}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'microshop',
        'messaging.operation.type': 'process',
        'messaging.destination.name': options.type,
        'messaging.consumer.group.name': options.consumer,
        ...(options.id ? { 'messaging.message.id': options.id } : {}),
        'messaging.message.delivery_attempt': options.attempt,
        [SERVICE_ATTRIBUTE]: options.consumer,
      },
      links: created ? [{ context: created }] : [],
    },
    parent ?? ROOT_CONTEXT,
  )
}

/** failed marks a span as failed by `error`, by its type and message only (no data). */
export function failed(span: Span, error: unknown): void {
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.name : 'error',
  })
}

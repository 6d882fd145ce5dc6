import { context, isSpanContextValid, ROOT_CONTEXT, trace } from '@opentelemetry/api'
import { tracer, w3c } from './telemetry.ts'

/** TraceContext is a W3C trace context: the trace this work belongs to and its current span. */
export interface TraceContext {
  traceId: string
  spanId: string
  /** traceparent is the header value to send onward (events, outgoing calls). */
  traceparent: string
}

/**
 * activeTrace is the trace context of the work running now (the OpenTelemetry context: the
 * request's server span, an event's consumer span), as the W3C propagator writes it.
 */
export function activeTrace(): TraceContext {
  const carrier: Record<string, string> = {}
  w3c.inject(context.active(), carrier, {
    set: (target: Record<string, string>, key: string, value: string) => {
      target[key] = value
    },
  })
  const span = trace.getSpanContext(context.active())
  if (!span || !isSpanContextValid(span) || !carrier.traceparent) {
    return { traceId: '', spanId: '', traceparent: '' }
  }
  return { traceId: span.traceId, spanId: span.spanId, traceparent: carrier.traceparent }
}

/**
 * traceOfHeaders reads the trace context a request carries, for a request no server span
 * received (one injected by a test): the work it does then continues the caller's trace.
 */
export function traceOfHeaders(headers: Record<string, string | string[] | undefined>) {
  type Headers = typeof headers
  const extracted = w3c.extract(ROOT_CONTEXT, headers, {
    get: (carrier: Headers, key: string) => carrier[key],
    keys: (carrier: Headers) => Object.keys(carrier),
  })
  const span = trace.getSpanContext(extracted)
  return span && isSpanContextValid(span)
    ? context.with(extracted, activeTrace)
    : { traceId: '', spanId: '', traceparent: '' }
}

/** activeTraceIds are the ids of the span running now, for log lines; none outside a trace. */
export function activeTraceIds(): { traceId?: string; spanId?: string } {
  const span = trace.getSpanContext(context.active())
  return span && isSpanContextValid(span) ? { traceId: span.traceId, spanId: span.spanId } : {}
}

/**
 * newTrace starts a trace of its own for work that no request or event caused (the clock's: a
 * deadline, an expiry, a reconciliation), with one span named `name`, and returns its context.
 */
export function newTrace(name: string): TraceContext {
  const span = tracer().startSpan(name, { root: true })
  span.end()
  return context.with(trace.setSpan(context.active(), span), activeTrace)
}

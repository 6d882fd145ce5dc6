import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** TraceContext is a W3C trace context: the trace this work belongs to and this service's span in it. */
export interface TraceContext {
  traceId: string
  spanId: string
  /** traceparent is the header value to send onward (events, outgoing calls). */
  traceparent: string
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/

/** continueTrace joins the trace of an incoming traceparent, or starts a new one, with a fresh span. */
export function continueTrace(traceparent: string | undefined): TraceContext {
  const match = traceparent ? TRACEPARENT.exec(traceparent.trim()) : null
  const traceId =
    match?.[1] && match[1] !== '0'.repeat(32) ? match[1] : randomBytes(16).toString('hex')
  const spanId = randomBytes(8).toString('hex')
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` }
}

// traceByRequest lets Fastify's request id and child logger factories, which both see only the
// raw request, agree on one trace without parsing or generating it twice.
const traceByRequest = new WeakMap<IncomingMessage, TraceContext>()

export function traceOfRequest(raw: IncomingMessage): TraceContext {
  let trace = traceByRequest.get(raw)
  if (!trace) {
    const header = raw.headers.traceparent
    trace = continueTrace(Array.isArray(header) ? header[0] : header)
    traceByRequest.set(raw, trace)
  }
  return trace
}

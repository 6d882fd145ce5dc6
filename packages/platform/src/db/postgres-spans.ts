// postgres-spans.ts: the Postgres client's statements as spans, while spans are exported
// (telemetry.ts). Only a service with a Postgres database loads it: the gateway carries neither
// node-postgres nor its instrumentation.
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg'
import pg from 'pg'
import { instrumentWhileExporting, patchModule, type SpanInstrumentation } from '../telemetry.ts'

/**
 * tracePostgresStatements makes every statement of node-postgres a span under the work that ran
 * it (none without a parent, none for connecting), whenever spans go somewhere. Without an
 * export nothing is patched: a span nobody records cost 2.5-3% of a busy service's CPU in
 * profiles.
 */
export function tracePostgresStatements(): void {
  instrumentWhileExporting(patchPostgres)
}

const patchPostgres: SpanInstrumentation = (provider) => {
  const instrumentation = new PgInstrumentation({
    enabled: false,
    requireParentSpan: true,
    ignoreConnectSpans: true,
  })
  instrumentation.setTracerProvider(provider)
  return patchModule(instrumentation, 'pg', pg)
}

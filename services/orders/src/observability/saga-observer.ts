import { SpanStatusCode, trace } from '@opentelemetry/api'
import { Counter, Histogram, type Registry } from 'prom-client'
import { tracer } from '@microshop/platform/telemetry'
import type { SagaObserver, SagaStepReport } from '../domain/orders-context.ts'

// REASONS are the reasons an order ends with, as the saga writes them: the `reason` label takes
// only these (anything else is `other`), so the series stay bounded.
const REASONS = new Set([
  'payment_succeeded',
  'out_of_stock',
  'unknown_product',
  'payment_declined',
  'insufficient_funds',
  'expired_card',
  'processing_error',
  'timeout',
  'cancelled_by_customer',
  'cancelled_by_admin',
])
const boundedReason = (reason: string | null | undefined) =>
  reason && REASONS.has(reason) ? reason : 'other'

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/**
 * sagaObserver gives each saga step a span (order id, input, the step it ended, outcome, status
 * and reason: never the customer, the payment method or an amount) and keeps the saga's
 * figures on the service's /metrics: checkouts placed and ended by outcome and reason, the time
 * from placed to the end, the time spent in each step, and the steps applied by outcome.
 */
export function sagaObserver(registry: Registry): SagaObserver {
  const registers = [registry]
  const placed = new Counter({
    name: 'checkouts_placed_total',
    help: 'Orders placed (the checkout saga started)',
    registers,
  })
  const ended = new Counter({
    name: 'checkouts_total',
    help: 'Checkouts that reached an end, by outcome (confirmed, rejected, cancelled) and reason',
    labelNames: ['outcome', 'reason'] as const,
    registers,
  })
  const duration = new Histogram({
    name: 'checkout_duration_seconds',
    help: 'Time from an order placed to its first end (confirmed, rejected or cancelled), by outcome',
    labelNames: ['outcome'] as const,
    buckets: SECONDS,
    registers,
  })
  const stepDuration = new Histogram({
    name: 'saga_step_duration_seconds',
    help: 'Time an order spent in a saga step (awaiting_stock, awaiting_payment) until it left it',
    labelNames: ['step'] as const,
    buckets: SECONDS,
    registers,
  })
  const replays = new Counter({
    name: 'idempotent_replays_total',
    help: 'Order requests answered with the stored response of their Idempotency-Key',
    registers,
  })
  const steps = new Counter({
    name: 'saga_steps_total',
    help: 'Saga inputs applied to orders, by input and outcome (changed, ignored, refused, duplicate)',
    labelNames: ['input', 'outcome'] as const,
    registers,
  })

  return {
    step(orderId, input, work) {
      return tracer().startActiveSpan(
        `saga ${input}`,
        { attributes: { 'microshop.order.id': orderId, 'microshop.saga.input': input } },
        async (span) => {
          try {
            return await work()
          } catch (error) {
            span.setStatus({
              code: SpanStatusCode.ERROR,
              message: error instanceof Error ? error.name : 'error',
            })
            throw error
          } finally {
            span.end()
          }
        },
      )
    },
    replayed() {
      replays.inc()
    },
    placed(orderId) {
      placed.inc()
      trace.getActiveSpan()?.setAttribute('microshop.order.id', orderId)
    },
    stepped(report: SagaStepReport) {
      const { input, before, now } = report
      const outcome = report.outcome === 'duplicate' ? 'duplicate' : report.outcome.outcome
      steps.inc({ input, outcome })
      const span = trace.getActiveSpan()
      span?.setAttributes({
        'microshop.saga.outcome': outcome,
        ...(before ? { 'microshop.saga.step': before.step ?? before.status } : {}),
      })
      if (report.outcome === 'duplicate' || report.outcome.outcome !== 'changed' || !before) return
      const { change } = report.outcome
      span?.setAttributes({
        'microshop.order.status': change.status,
        'microshop.saga.reason': boundedReason(change.reason),
      })
      if (before.status === 'PENDING' && before.step) {
        stepDuration.observe(
          { step: before.step },
          Math.max(0, now.getTime() - before.stepStartedAt.getTime()) / 1000,
        )
      }
      if (before.status === 'PENDING' && change.status !== 'PENDING') {
        const label = change.status.toLowerCase()
        ended.inc({ outcome: label, reason: boundedReason(change.reason) })
        duration.observe(
          { outcome: label },
          Math.max(0, now.getTime() - before.placedAt.getTime()) / 1000,
        )
      } else if (before.status === 'CONFIRMED' && change.status === 'CANCELLED') {
        ended.inc({ outcome: 'cancelled', reason: boundedReason(change.reason) })
      }
    },
  }
}

/** quietSagaObserver observes nothing: for use-case tests. */
export const quietSagaObserver: SagaObserver = {
  step: (_orderId, _input, work) => work(),
  placed: () => undefined,
  replayed: () => undefined,
  stepped: () => undefined,
}

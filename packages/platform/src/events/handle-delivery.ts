import { performance } from 'node:perf_hooks'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { CloudEventSchema, type CloudEvent } from '@microshop/contracts/envelope'
import { setTimeout as sleep } from 'node:timers/promises'
import { isAppError } from '../errors.ts'
import { isInfrastructureFailure } from '../infrastructure-failure.ts'
import { context, SpanStatusCode, trace as traces } from '@opentelemetry/api'
import { activeTrace } from '../trace-context.ts'
import { failed, processSpan } from './event-spans.ts'
import type { Logger } from '../logger.ts'
import type { EventMetrics } from './event-metrics.ts'
import {
  DEFAULT_BACKOFF_MS,
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_DELIVER,
  type DeadLetterSink,
  type Subscription,
} from './event-bus.ts'

const envelopeValidator = Compile(CloudEventSchema)

/** ReceivedEvent is a delivery's body, parsed once: the adapters read the subject to keep per-aggregate order. */
export interface ReceivedEvent {
  raw: string
  value: unknown
  parseError?: string
  id?: string | undefined
  type?: string | undefined
  subject?: string | undefined
}

export function readEvent(raw: string): ReceivedEvent {
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch (error) {
    return { raw, value: undefined, parseError: (error as Error).message }
  }
  const fields = (typeof value === 'object' && value !== null ? value : {}) as Record<
    string,
    unknown
  >
  const text = (key: string) => (typeof fields[key] === 'string' ? fields[key] : undefined)
  return { raw, value, id: text('id'), type: text('type'), subject: text('subject') }
}

/** ResolvedSubscription is a subscription with its defaults filled in and checked. */
export type ResolvedSubscription = Required<Subscription<TSchema>>

export function resolveSubscription<Payload extends TSchema>(
  subscription: Subscription<Payload>,
): ResolvedSubscription {
  const resolved = {
    maxDeliver: DEFAULT_MAX_DELIVER,
    backoffMs: DEFAULT_BACKOFF_MS,
    concurrency: DEFAULT_CONCURRENCY,
    ...subscription,
  } as ResolvedSubscription
  if (!/^[a-z][a-z0-9-]*$/.test(resolved.service)) {
    throw new Error(`service ${resolved.service} must be lowercase letters, digits and dashes`)
  }
  if (!Number.isInteger(resolved.maxDeliver) || resolved.maxDeliver < 1) {
    throw new Error(`maxDeliver must be a positive integer, not ${resolved.maxDeliver}`)
  }
  if (resolved.backoffMs.length === 0 || resolved.backoffMs.some((ms) => !(ms >= 0))) {
    throw new Error('backoffMs needs at least one delay, none negative')
  }
  return resolved
}

/** DeliveryOutcome is what the adapter tells its broker: done, try again later, or never again. */
export type DeliveryOutcome =
  { action: 'ack' } | { action: 'retry'; delayMs: number } | { action: 'term' }

export interface DeliveryContext {
  subscription: ResolvedSubscription
  logger: Logger
  metrics: EventMetrics
  deadLetters: DeadLetterSink | undefined
  /** stopping aborts when the bus closes: a handler waiting out an outage gives the event back. */
  stopping: AbortSignal
}

// An outage is waited out in place with these pauses, the last repeating.
const OUTAGE_BACKOFF_MS = [100, 250, 500, 1_000, 2_000]

/**
 * handleDelivery is the one consumer policy both adapters share: check the envelope and the
 * payload, run the handler, and decide. A bad event or an AppError of kind `invalid` is parked
 * at once (retrying cannot fix it); any other error is retried with backoff until `maxDeliver`
 * attempts, then parked. Parking writes a dead letter; if that write fails, the event is
 * retried: its next delivery runs the handler once more (handlers are idempotent), and parks it
 * if that fails too. The broker allows a few deliveries past maxDeliver for this, and for
 * deliveries lost with a process that stopped or crashed holding them, which count there too.
 *
 * A failure of the infrastructure (the database or the broker unreachable or restarting, see
 * isInfrastructureFailure) is not the event's fault: the handler is run again in place, with
 * backoff, for as long as the outage lasts, holding the event, so it uses up none of the
 * event's attempts and is never parked for it. Only when the bus closes meanwhile is the event
 * given back for a later delivery.
 */
export async function handleDelivery(
  delivery: DeliveryContext,
  received: ReceivedEvent,
  attempt: number,
): Promise<DeliveryOutcome> {
  const traceparent = (received.value as Partial<CloudEvent> | null | undefined)?.traceparent
  const span = processSpan({
    type: delivery.subscription.event.type,
    id: received.id,
    traceparent: typeof traceparent === 'string' ? traceparent : undefined,
    consumer: delivery.subscription.service,
    attempt,
  })
  try {
    const outcome = await context.with(traces.setSpan(context.active(), span), () =>
      decide(delivery, received, attempt),
    )
    span.setAttribute('microshop.delivery.outcome', outcome.action)
    if (outcome.action !== 'ack') span.setStatus({ code: SpanStatusCode.ERROR })
    return outcome
  } catch (error) {
    failed(span, error)
    throw error
  } finally {
    span.end()
  }
}

async function decide(
  context: DeliveryContext,
  received: ReceivedEvent,
  attempt: number,
): Promise<DeliveryOutcome> {
  const { subscription, metrics } = context
  const consumer = subscription.service
  const eventType = subscription.event.type
  const labels = { type: eventType, consumer }
  const problem = invalidEvent(subscription, received)
  const trace = activeTrace()
  const logger = context.logger.child({ eventId: received.id, eventType, consumer, attempt })
  if (attempt > 1) metrics.redelivered.inc(labels)
  if (problem) return park(context, received, attempt, `invalid event: ${problem}`, logger)
  // An attempt past maxDeliver still runs the handler (as a last attempt): the broker also
  // counts deliveries no handler saw (pulled by a process that was stopped or killed), and an
  // event must not be parked untried for them. A handler that fails it is parked as below.
  const started = performance.now()
  try {
    for (let outages = 0; ; outages++) {
      try {
        await subscription.handler(received.value as CloudEvent, {
          attempt,
          maxDeliver: subscription.maxDeliver,
          consumer,
          trace,
          logger,
        })
        break
      } catch (error) {
        if (!isInfrastructureFailure(error) || context.stopping.aborted) throw error
        const pauseMs = backoffAfter(OUTAGE_BACKOFF_MS, outages + 1)
        if (outages === 0) {
          logger.warn(
            { err: error },
            'infrastructure unavailable; retrying in place until it is back',
          )
        }
        await sleep(pauseMs, undefined, { signal: context.stopping }).catch(() => undefined)
      }
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    if (isAppError(error) && error.kind === 'invalid') {
      return park(context, received, attempt, `rejected as invalid: ${message}`, logger, error)
    }
    if (attempt >= subscription.maxDeliver) {
      return park(context, received, attempt, `failed ${attempt} times: ${message}`, logger, error)
    }
    const delayMs = backoffAfter(subscription.backoffMs, attempt)
    logger.warn({ err: error, retryInMs: delayMs }, 'event handler failed; will retry')
    return { action: 'retry', delayMs }
  }
  const seconds = (performance.now() - started) / 1000
  metrics.consumed.inc(labels)
  metrics.handlerDuration.observe(labels, seconds)
  logger.info({ durationMs: Math.round(seconds * 10_000) / 10 }, 'event handled')
  return { action: 'ack' }
}

/** backoffAfter is the wait after the attempt-th failure; the last delay repeats. */
export function backoffAfter(backoffMs: readonly number[], attempt: number): number {
  return backoffMs[Math.min(attempt, backoffMs.length) - 1] ?? 0
}

function invalidEvent(subscription: ResolvedSubscription, received: ReceivedEvent) {
  if (received.parseError !== undefined) return `not JSON (${received.parseError})`
  if (!envelopeValidator.Check(received.value)) {
    return describe(
      envelopeValidator
        .Errors(received.value)
        .map((error) => ({ path: error.instancePath || '/', message: error.message })),
    )
  }
  if (received.type !== subscription.event.type) {
    return `type ${received.type} delivered to a consumer of ${subscription.event.type}`
  }
  const data = (received.value as CloudEvent).data
  if (!subscription.event.check(data)) {
    return describe(
      subscription.event.errors(data).map((error) => ({ ...error, path: `/data${error.path}` })),
    )
  }
  return undefined
}

const describe = (errors: { path: string; message: string }[]) =>
  errors
    .slice(0, 5)
    .map((error) => `${error.path} ${error.message}`)
    .join('; ')

async function park(
  context: DeliveryContext,
  received: ReceivedEvent,
  attempt: number,
  reason: string,
  logger: Logger,
  error?: unknown,
): Promise<DeliveryOutcome> {
  const { subscription } = context
  try {
    await context.deadLetters?.({
      consumer: subscription.service,
      eventId: received.id ?? 'unknown',
      eventType: subscription.event.type,
      event: received.raw,
      reason,
      attempts: attempt,
    })
  } catch (sinkError) {
    const delayMs = backoffAfter(subscription.backoffMs, subscription.backoffMs.length)
    logger.error({ err: sinkError, reason }, 'could not record a dead letter; will retry')
    return { action: 'retry', delayMs }
  }
  context.metrics.deadLettered.inc({
    type: subscription.event.type,
    consumer: subscription.service,
  })
  logger.error({ err: error, reason }, 'event dead-lettered')
  return { action: 'term' }
}

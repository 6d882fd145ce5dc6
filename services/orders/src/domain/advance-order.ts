import type { CloudEvent } from '@microshop/contracts/envelope'
import type { InTransaction } from '@microshop/platform/db/store'
import { invalid } from '@microshop/platform/errors'
import type { EventCause } from '@microshop/platform/events/consumer'
import { newEvent } from '@microshop/platform/events/new-event'
import { advanceSaga, type Emit, type SagaInput, type SagaOutcome } from './checkout-saga.ts'
import type { SagaOrder } from './order.ts'
import type { OrdersContext, OrdersRepositories } from './orders-context.ts'

type Tx = InTransaction<OrdersRepositories>

/** cloudEventsOf wraps what the saga emits for an order in envelopes, subject the order id. */
export function cloudEventsOf(
  emits: readonly Emit[],
  orderId: string,
  options: { time: Date; traceparent?: string | undefined },
): CloudEvent[] {
  return emits.map((emitted) =>
    newEvent(emitted.event, emitted.data, {
      subject: orderId,
      time: options.time,
      ...(options.traceparent === undefined ? {} : { traceparent: options.traceparent }),
    }),
  )
}

/**
 * advanceLockedOrder applies one saga input to an order the caller's transaction has locked
 * (cancel, the deadline sweeper): it asks the state machine and saves the change with its events,
 * so the order and what it tells the others commit together.
 */
export async function advanceLockedOrder(
  ctx: OrdersContext,
  tx: Tx,
  order: SagaOrder,
  input: SagaInput,
  traceparent?: string,
): Promise<SagaOutcome> {
  return ctx.saga.step(order.id, input.type, async () => {
    const now = ctx.now()
    const outcome = advanceSaga(order, input, {
      now,
      paymentStepTimeoutMs: ctx.settings.paymentStepTimeoutMs,
    })
    if (outcome.outcome === 'changed') {
      await tx.orders.saveTransition(outcome.order, outcome.change)
      await tx.outbox.add(...cloudEventsOf(outcome.events, order.id, { time: now, traceparent }))
      noteSettled(ctx, order, outcome.order, now)
    }
    // Reported before the commit: a rollback fails the caller, whose retry reports again.
    ctx.saga.stepped({ input: input.type, before: order, outcome, now })
    return outcome
  })
}

// noteSettled tells admission control how long a saga took when this step ended it.
function noteSettled(ctx: OrdersContext, before: SagaOrder, after: SagaOrder, now: Date) {
  if (before.status === 'PENDING' && after.status !== 'PENDING') {
    ctx.admission.settled(now.getTime() - before.placedAt.getTime())
  }
}

// A step that keeps finding the order changed under it gives up and is retried by the bus.
const MAX_STEP_ATTEMPTS = 20

/**
 * handleSagaEvent applies a participant's event to its order exactly once, in one round trip when
 * this process remembers the order (it placed it, or did its last step): from the saga as last
 * seen it asks the state machine and writes the change, its outgoing events and the inbox record
 * in one statement that applies only if the order is still at that version and the event
 * unhandled. When another step, another replica or a racing delivery came first, the statement
 * answers with the saga as it is, and the step decides again from that; an order this process
 * does not remember is read first. An event about an order this service never had cannot succeed
 * on retry: it is `invalid`, so the bus parks it at once.
 */
export async function handleSagaEvent(
  ctx: OrdersContext,
  orderId: string,
  input: SagaInput,
  cause: EventCause,
): Promise<void> {
  return ctx.saga.step(orderId, input.type, () => applySagaEvent(ctx, orderId, input, cause))
}

async function applySagaEvent(
  ctx: OrdersContext,
  orderId: string,
  input: SagaInput,
  cause: EventCause,
): Promise<void> {
  const inbox = { consumer: cause.consumer, eventId: cause.eventId }
  const { orders } = ctx.store
  let state = orders.recentSagaState(orderId) ?? (await orders.sagaState(orderId, inbox))
  for (let attempt = 1; attempt <= MAX_STEP_ATTEMPTS; attempt++) {
    if (!state) throw invalid(`There is no order ${orderId}.`)
    if (state.handled) {
      cause.logger.debug({ orderId }, 'event already handled')
      ctx.saga.stepped({
        input: input.type,
        before: undefined,
        outcome: 'duplicate',
        now: ctx.now(),
      })
      return
    }
    const now = ctx.now()
    const outcome = advanceSaga(state.order, input, {
      now,
      paymentStepTimeoutMs: ctx.settings.paymentStepTimeoutMs,
    })
    const changed = outcome.outcome === 'changed'
    const result = await orders.applySagaStep({
      orderId,
      expectedVersion: state.version,
      transition: changed ? { order: outcome.order, change: outcome.change } : undefined,
      events: changed
        ? cloudEventsOf(outcome.events, orderId, { time: now, traceparent: cause.traceparent })
        : [],
      inbox,
    })
    if (!result.applied) {
      state = result.current ?? (await orders.sagaState(orderId, inbox))
      continue
    }
    ctx.saga.stepped({ input: input.type, before: state.order, outcome, now })
    if (changed) {
      noteSettled(ctx, state.order, outcome.order, now)
      cause.logger.debug(
        { orderId, status: outcome.change.status, reason: outcome.change.reason },
        'order advanced',
      )
    } else {
      cause.logger.info({ orderId, why: outcome.reason }, 'event ignored')
    }
    return
  }
  throw new Error(`Order ${orderId} kept changing under its saga step; it will be tried again.`)
}

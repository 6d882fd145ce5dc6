import type { CloudEvent } from '@microshop/contracts/envelope'
import { invalid } from '@microshop/platform/errors'
import type { Logger } from '@microshop/platform/logger'
import { newEvent } from '@microshop/platform/events/new-event'
import type { Repositories } from '../db/orders-store.ts'
import { advanceSaga, type Emit, type SagaInput, type SagaOutcome } from './checkout-saga.ts'
import type { SagaOrder } from './order.ts'
import type { OrdersContext } from './orders-context.ts'

/** ORDERS_SOURCE is the CloudEvents `source` of every event orders publishes. */
export const ORDERS_SOURCE = '/orders'

/** cloudEventsOf wraps what the saga emits for an order in envelopes, subject the order id. */
export function cloudEventsOf(
  emits: readonly Emit[],
  orderId: string,
  options: { time: Date; traceparent?: string | undefined },
): CloudEvent[] {
  return emits.map((emitted) =>
    newEvent(emitted.event, emitted.data, {
      source: ORDERS_SOURCE,
      subject: orderId,
      time: options.time,
      ...(options.traceparent === undefined ? {} : { traceparent: options.traceparent }),
    }),
  )
}

/**
 * advanceOrder applies one saga input to an order inside the caller's transaction: it locks the
 * order's row, asks the state machine, and saves the change with its events, so the order and
 * what it tells the others commit together. Undefined when there is no such order.
 */
export async function advanceOrder(
  ctx: OrdersContext,
  tx: Repositories,
  orderId: string,
  input: SagaInput,
  traceparent?: string,
): Promise<SagaOutcome | undefined> {
  const order = await tx.orders.lockForSaga(orderId)
  return order && advanceLockedOrder(ctx, tx, order, input, traceparent)
}

/** advanceLockedOrder is advanceOrder for an order the transaction has already locked. */
export async function advanceLockedOrder(
  ctx: OrdersContext,
  tx: Repositories,
  order: SagaOrder,
  input: SagaInput,
  traceparent?: string,
): Promise<SagaOutcome> {
  const now = ctx.now()
  const outcome = advanceSaga(order, input, {
    now,
    paymentStepTimeoutMs: ctx.settings.paymentStepTimeoutMs,
  })
  if (outcome.outcome === 'changed') {
    await tx.orders.saveTransition(outcome.order, outcome.change)
    await tx.outbox.add(...cloudEventsOf(outcome.events, order.id, { time: now, traceparent }))
  }
  return outcome
}

/** SagaEvent is a participant's event, as a consumer hands it to the saga. */
export interface SagaEvent {
  consumer: string
  eventId: string
  orderId: string
  input: SagaInput
  traceparent: string
  logger: Logger
}

/**
 * handleSagaEvent applies a participant's event to its order exactly once: the inbox record, the
 * order's change and its outgoing events commit in one transaction. An event about an order this
 * service never had cannot succeed on retry: it is `invalid`, so the bus parks it at once.
 */
export async function handleSagaEvent(ctx: OrdersContext, event: SagaEvent): Promise<void> {
  let outcome: SagaOutcome | undefined
  const firstTime = await ctx.store.consumeOnce(event.consumer, event.eventId, async (tx) => {
    outcome = await advanceOrder(ctx, tx, event.orderId, event.input, event.traceparent)
    if (!outcome) throw invalid(`There is no order ${event.orderId}.`)
  })
  if (!firstTime) {
    event.logger.debug({ orderId: event.orderId }, 'event already handled')
  } else if (outcome?.outcome === 'changed') {
    event.logger.debug(
      { orderId: event.orderId, status: outcome.change.status, reason: outcome.change.reason },
      'order advanced',
    )
  } else if (outcome) {
    event.logger.info({ orderId: event.orderId, why: outcome.reason }, 'event ignored')
  }
}

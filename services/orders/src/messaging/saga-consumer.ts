import type { Static, TSchema } from 'typebox'
import type { EventDefinition } from '@microshop/contracts/define-event'
import { causeOf, type Consumer } from '@microshop/platform/events/consumer'
import { handleSagaEvent } from '../domain/advance-order.ts'
import type { SagaInput } from '../domain/checkout-saga.ts'
import type { OrdersContext } from '../domain/orders-context.ts'

/**
 * SAGA_DELIVERY is the retry policy of the saga's consumers: a transient failure (the database
 * restarting, a lock timeout) is retried with growing waits for about half a minute, then parked
 * as a dead letter; the step deadline then settles the order.
 */
export const SAGA_DELIVERY = {
  maxDeliver: 8,
  backoffMs: [100, 500, 1_000, 2_000, 5_000, 10_000],
} as const

/** OrderEvent is an event whose payload names its order: the only kind the saga consumes. */
type OrderEvent<Payload extends TSchema> = EventDefinition<Payload> &
  (Static<Payload> extends { orderId: string } ? unknown : never)

/**
 * sagaConsumer is a consumer of a participant's answer: `toInput` reads the event as the saga's
 * input for the order it names, and the saga applies it exactly once (see handleSagaEvent).
 */
export function sagaConsumer<Payload extends TSchema>(
  ctx: OrdersContext,
  event: OrderEvent<Payload>,
  toInput: (data: Static<Payload>) => SagaInput,
): Consumer<Payload> {
  return {
    event,
    ...SAGA_DELIVERY,
    handler: (received, delivery) =>
      handleSagaEvent(
        ctx,
        // OrderEvent guarantees the payload has an orderId.
        (received.data as { orderId: string }).orderId,
        toInput(received.data),
        causeOf(received, delivery),
      ),
  }
}

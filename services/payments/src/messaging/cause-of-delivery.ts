import type { CloudEvent } from '@microshop/contracts/envelope'
import type { Delivery } from '@microshop/platform/events/event-bus'
import type { Cause } from '../domain/settle-payment.ts'

/** causeOfDelivery is what the use cases need of a delivery: its id for the inbox, its trace, whether retries remain. */
export function causeOfDelivery(event: CloudEvent, delivery: Delivery): Cause {
  return {
    eventId: event.id,
    traceparent: delivery.trace.traceparent,
    lastAttempt: delivery.attempt >= delivery.maxDeliver,
    logger: delivery.logger,
  }
}

import { catalogEvents } from './catalog-events.ts'
import type { EventDefinition } from './define-event.ts'
import { ordersEvents } from './orders-events.ts'
import { paymentsEvents } from './payments-events.ts'

/** allEvents is every event of the contract: the AsyncAPI document and the broker's streams come from it. */
export const allEvents: readonly EventDefinition[] = [
  ...ordersEvents,
  ...catalogEvents,
  ...paymentsEvents,
]

/** producers are the services that own a stream of events. */
export const producers: readonly string[] = [...new Set(allEvents.map((event) => event.producer))]

import { Counter, Histogram, Registry } from 'prom-client'

/** EventMetrics are the figures of the event backbone on a service's /metrics. */
export interface EventMetrics {
  published: Counter<'type'>
  consumed: Counter<'type' | 'consumer'>
  redelivered: Counter<'type' | 'consumer'>
  deadLettered: Counter<'type' | 'consumer'>
  handlerDuration: Histogram<'type' | 'consumer'>
}

const byRegistry = new WeakMap<Registry, EventMetrics>()
// detached collects the figures of a bus built without a service's registry (scripts, tests).
const detached = new Registry()

/** eventMetrics registers the counters once per registry, however many buses and relays share it. */
export function eventMetrics(registry: Registry | undefined): EventMetrics {
  const target = registry ?? detached
  let metrics = byRegistry.get(target)
  if (!metrics) {
    const registers = [target]
    metrics = {
      published: new Counter({
        name: 'events_published_total',
        help: 'Events the broker accepted from this service, by type',
        labelNames: ['type'],
        registers,
      }),
      consumed: new Counter({
        name: 'events_consumed_total',
        help: 'Events handled successfully, by type and consumer',
        labelNames: ['type', 'consumer'],
        registers,
      }),
      redelivered: new Counter({
        name: 'events_redelivered_total',
        help: 'Deliveries after the first (retries and ack timeouts), by type and consumer',
        labelNames: ['type', 'consumer'],
        registers,
      }),
      deadLettered: new Counter({
        name: 'events_dead_lettered_total',
        help: 'Events parked as dead letters, by type and consumer',
        labelNames: ['type', 'consumer'],
        registers,
      }),
      handlerDuration: new Histogram({
        name: 'event_handler_duration_seconds',
        help: 'Event handler duration in seconds, by type and consumer',
        labelNames: ['type', 'consumer'],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
        registers,
      }),
    }
    byRegistry.set(target, metrics)
  }
  return metrics
}

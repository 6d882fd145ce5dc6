/** CONSUMER is orders' consumer group on the bus, and its name in the inbox. */
export const CONSUMER = 'orders'

/**
 * SAGA_DELIVERY is the retry policy of the saga's consumers: a transient failure (the database
 * restarting, a lock timeout) is retried with growing waits for about half a minute, then parked
 * as a dead letter; the step deadline then settles the order.
 */
export const SAGA_DELIVERY = {
  maxDeliver: 8,
  backoffMs: [100, 500, 1_000, 2_000, 5_000, 10_000],
} as const

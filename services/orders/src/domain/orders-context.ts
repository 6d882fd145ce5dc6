import type { Logger } from '@microshop/platform/logger'
import type { OrdersStore } from '../db/orders-store.ts'
import type { FetchProduct } from './product-prices.ts'

/** OrdersSettings are the saga's and the API's knobs, from config.ts. */
export interface OrdersSettings {
  /** stockStepTimeoutMs is how long a new order waits for the catalog's answer. */
  stockStepTimeoutMs: number
  /** paymentStepTimeoutMs is how long an order with reserved stock waits for the payment's outcome. */
  paymentStepTimeoutMs: number
  /** idempotencyKeyRetentionMs is how long a key's response is replayed; at least a day. */
  idempotencyKeyRetentionMs: number
}

/**
 * OrdersContext is what the order use cases work with: the service's store, the catalog for
 * products the read model has not seen, the settings, a logger, and the clock.
 */
export interface OrdersContext {
  store: OrdersStore
  fetchProduct: FetchProduct
  settings: OrdersSettings
  logger: Logger
  now(): Date
}

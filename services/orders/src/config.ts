import Type, { type Static } from 'typebox'
import { tokenEnv } from '@microshop/platform/auth/token-settings'
import { loadEnv, serviceEnv, type EnvSource } from '@microshop/platform/config'

const OrdersEnv = Type.Object({
  ...serviceEnv(8082),
  ...tokenEnv(),
  /** CATALOG_URL is the catalog service, asked for a product the prices read model has not seen. */
  CATALOG_URL: Type.String({ default: 'http://127.0.0.1:8084', pattern: '^https?://' }),
  CATALOG_TIMEOUT_MS: Type.Integer({ default: 1_000, minimum: 50, maximum: 30_000 }),
  /** STOCK_STEP_TIMEOUT_MS is how long a new order waits for the catalog's reservation. */
  STOCK_STEP_TIMEOUT_MS: Type.Integer({ default: 30_000, minimum: 10 }),
  /**
   * PAYMENT_STEP_TIMEOUT_MS is how long an order with reserved stock waits for the payment's
   * outcome. Keep it above payments' retry budget; the reservation's expiry caps it anyway.
   */
  PAYMENT_STEP_TIMEOUT_MS: Type.Integer({ default: 60_000, minimum: 10 }),
  /** SAGA_SWEEP_INTERVAL_MS is how often overdue PENDING orders are looked for. */
  SAGA_SWEEP_INTERVAL_MS: Type.Integer({ default: 1_000, minimum: 10 }),
  /**
   * SAGA_SWEEP_START_DELAY_MS holds the first sweep after start-up. Not needed for correctness:
   * an order is judged overdue only once the answers published before its deadline (also those
   * that queued up while orders was down) have been handled.
   */
  SAGA_SWEEP_START_DELAY_MS: Type.Integer({ default: 0, minimum: 0 }),
  /**
   * CHECKOUT_TARGET_SAGA_MS is how long a checkout should take from placed to settled: the
   * number of checkouts in flight is bounded so that they settle in about this time, and past
   * saturation new ones are refused (503 + Retry-After) instead of queued.
   */
  CHECKOUT_TARGET_SAGA_MS: Type.Integer({ default: 500, minimum: 10 }),
  /** CHECKOUT_MAX_IN_FLIGHT caps the checkouts in flight (PENDING orders) whatever the measurements say; 0 turns the bound off. */
  CHECKOUT_MAX_IN_FLIGHT: Type.Integer({ default: 2_000, minimum: 0 }),
  /** CHECKOUT_MIN_IN_FLIGHT is the fewest checkouts in flight the bound ever shrinks to. */
  CHECKOUT_MIN_IN_FLIGHT: Type.Integer({ default: 32, minimum: 1 }),
  /**
   * CHECKOUT_COUNT_INTERVAL_MS is how often the checkouts in flight in every replica are counted
   * (and the bound adapted); in between, each replica adds what it admits and sees settle.
   */
  CHECKOUT_COUNT_INTERVAL_MS: Type.Integer({ default: 1_000, minimum: 10 }),
  /** IDEMPOTENCY_KEY_RETENTION_HOURS is how long a key's response is replayed; a day at least. */
  IDEMPOTENCY_KEY_RETENTION_HOURS: Type.Integer({ default: 24, minimum: 24 }),
  /** CUSTOMER_MAX_PENDING_ORDERS is how many PENDING orders one customer may have at once (429 past it). */
  CUSTOMER_MAX_PENDING_ORDERS: Type.Integer({ default: 50, minimum: 1 }),
  /** CUSTOMER_MAX_PENDING_UNITS is how many units of one product one customer's PENDING orders may hold (409 past it). */
  CUSTOMER_MAX_PENDING_UNITS: Type.Integer({ default: 25, minimum: 1 }),
})

export type OrdersConfig = Static<typeof OrdersEnv>

/** loadOrdersConfig parses the orders service's settings once at boot, listing every problem. */
export function loadOrdersConfig(source?: EnvSource): OrdersConfig {
  return loadEnv(OrdersEnv, source)
}

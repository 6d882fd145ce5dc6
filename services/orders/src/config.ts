import Type, { type Static } from 'typebox'
import { loadEnv, serviceEnv, type EnvSource } from '@microshop/platform/config'

const OrdersEnv = Type.Object({
  ...serviceEnv(8082),
  /** JWKS_URL is where the users service publishes the keys that sign access tokens. */
  JWKS_URL: Type.String({ default: 'http://127.0.0.1:8081/auth/jwks.json' }),
  JWT_ISSUER: Type.String({ default: 'microshop', minLength: 1 }),
  JWT_AUDIENCE: Type.String({ default: 'microshop', minLength: 1 }),
  /** CATALOG_URL is the catalog service, asked for a product the prices read model has not seen. */
  CATALOG_URL: Type.String({ default: 'http://127.0.0.1:8084', pattern: '^https?://' }),
  CATALOG_TIMEOUT_MS: Type.Integer({ default: 1_000, minimum: 50, maximum: 30_000 }),
  /**
   * PUBLIC_BASE_PATH is where the gateway publishes this API (`/api`): the `Location` of a new
   * order is `<PUBLIC_BASE_PATH>/orders/<id>`, a URL the client can follow. `/` for none.
   */
  PUBLIC_BASE_PATH: Type.String({ default: '/api', pattern: '^/$|^(/[A-Za-z0-9._~-]+)+$' }),
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
   * SAGA_SWEEP_START_DELAY_MS holds the first sweep after start-up, so the answers that queued up
   * while orders was down are applied before their orders are judged overdue.
   */
  SAGA_SWEEP_START_DELAY_MS: Type.Integer({ default: 10_000, minimum: 0 }),
  /** IDEMPOTENCY_KEY_RETENTION_HOURS is how long a key's response is replayed; a day at least. */
  IDEMPOTENCY_KEY_RETENTION_HOURS: Type.Integer({ default: 24, minimum: 24 }),
})

export type OrdersConfig = Static<typeof OrdersEnv>

/** loadOrdersConfig parses the orders service's settings once at boot, listing every problem. */
export function loadOrdersConfig(source?: EnvSource): OrdersConfig {
  return loadEnv(OrdersEnv, source)
}

import Type, { type Static } from 'typebox'
import { tokenEnv } from '@microshop/platform/auth/token-settings'
import { loadEnv, serviceEnv, type EnvSource } from '@microshop/platform/config'

const CatalogEnv = Type.Object({
  ...serviceEnv(8084),
  ...tokenEnv(),
  /** SEED_DEMO_DATA loads the demo catalogue on first start (when there are no products yet). */
  SEED_DEMO_DATA: Type.Boolean({ default: false }),
  /** RESERVATION_TTL_SECONDS is how long stock stays reserved for an order that is not confirmed. */
  RESERVATION_TTL_SECONDS: Type.Integer({ default: 900, minimum: 1 }),
})

export type CatalogConfig = Static<typeof CatalogEnv>

export function loadCatalogConfig(source?: EnvSource): CatalogConfig {
  return loadEnv(CatalogEnv, source)
}

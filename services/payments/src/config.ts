import Type, { type Static } from 'typebox'
import { tokenEnv } from '@microshop/platform/auth/token-settings'
import { loadEnv, serviceEnv, type EnvSource } from '@microshop/platform/config'

const PaymentsEnv = Type.Object({
  ...serviceEnv(8083),
  ...tokenEnv(),
  /** PROCESSOR_LATENCY_MS is how long each call to the simulated processor takes. */
  PROCESSOR_LATENCY_MS: Type.Integer({ default: 0, minimum: 0, maximum: 60_000 }),
  /** PROCESSOR_TRANSIENT_FAILURE_RATE is the share of new charges and refunds that fail with processing_error, for drills. */
  PROCESSOR_TRANSIENT_FAILURE_RATE: Type.Number({ default: 0, minimum: 0, maximum: 1 }),
  /** PROCESSOR_MAX_ATTEMPTS is how many times an event is tried before its charge fails as processing_error (or it is dead-lettered). */
  PROCESSOR_MAX_ATTEMPTS: Type.Integer({ default: 5, minimum: 1, maximum: 100 }),
  /** PROCESSOR_RETRY_BACKOFF_MS is the wait after each failed try, comma-separated; the last repeats. */
  PROCESSOR_RETRY_BACKOFF_MS: Type.String({
    default: '100,500,2000,5000',
    pattern: '^[0-9]{1,7}(,[0-9]{1,7})*$',
  }),
  /** PAYMENT_RECONCILE_AFTER_MS is how long a payment may wait for a charge's answer or a refund before the reconciler takes it. */
  PAYMENT_RECONCILE_AFTER_MS: Type.Integer({ default: 60_000, minimum: 100 }),
})

export type PaymentsConfig = Omit<Static<typeof PaymentsEnv>, 'PROCESSOR_RETRY_BACKOFF_MS'> & {
  PROCESSOR_RETRY_BACKOFF_MS: number[]
}

/** loadPaymentsConfig parses the payments service's settings once at boot, listing every problem. */
export function loadPaymentsConfig(source?: EnvSource): PaymentsConfig {
  const env = loadEnv(PaymentsEnv, source)
  return {
    ...env,
    PROCESSOR_RETRY_BACKOFF_MS: env.PROCESSOR_RETRY_BACKOFF_MS.split(',').map(Number),
  }
}

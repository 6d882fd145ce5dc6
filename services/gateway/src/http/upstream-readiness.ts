import type { ReadinessCheck } from '@microshop/platform/http/health'
import type { Upstream } from '../config.ts'

const CHECK_TIMEOUT_MS = 1_500

/**
 * upstreamReadinessChecks makes one readiness check per upstream: its own `/health/ready`, which
 * covers its database and broker. The gateway is ready when every service behind it is.
 */
export function upstreamReadinessChecks(upstreams: Upstream[]): Record<string, ReadinessCheck> {
  return Object.fromEntries(
    upstreams.map((upstream) => [
      upstream.name,
      async () => {
        const response = await fetch(`${upstream.url}/health/ready`, {
          signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
        })
        await response.body?.cancel()
        if (!response.ok) throw new Error(`${upstream.name} is not ready (${response.status})`)
      },
    ]),
  )
}

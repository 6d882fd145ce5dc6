import type { ReadinessCheck } from '@microshop/platform/http/health'
import type { Upstream } from '../config.ts'

const CHECK_TIMEOUT_MS = 1_500

/**
 * upstreamReadinessChecks makes one readiness check per upstream: its own `/health/ready`, which
 * covers its database and broker. An upstream with several replicas is ready when one of them is,
 * since the gateway balances away from the others. The gateway is ready when every service is.
 */
export function upstreamReadinessChecks(upstreams: Upstream[]): Record<string, ReadinessCheck> {
  return Object.fromEntries(
    upstreams.map((upstream) => [
      upstream.name,
      async () => {
        const answers = await Promise.all(upstream.urls.map(readyStatus))
        if (!answers.includes(200)) {
          throw new Error(`${upstream.name} is not ready (${answers.join(', ')})`)
        }
      },
    ]),
  )
}

async function readyStatus(url: string): Promise<number | string> {
  try {
    const response = await fetch(`${url}/health/ready`, {
      signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
    })
    await response.body?.cancel()
    return response.status
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name
  }
}

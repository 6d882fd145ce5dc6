import type { HttpApp } from './app.ts'

/** ReadinessCheck resolves when a dependency answers and throws when it does not. */
export type ReadinessCheck = () => Promise<unknown>

const CHECK_TIMEOUT_MS = 2_000

/**
 * registerHealthRoutes adds `/health/live` (the process answers) and `/health/ready` (every
 * dependency answers, each within two seconds); readiness fails with 503 naming the failing
 * checks, and while the service shuts down.
 */
export function registerHealthRoutes(app: HttpApp, checks: Record<string, ReadinessCheck>): void {
  let closing = false
  app.addHook('onClose', async () => {
    closing = true
  })
  app.get('/health/live', { schema: { hide: true } }, () => ({ status: 'ok' }))
  app.get('/health/ready', { schema: { hide: true } }, async (request, reply) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), CHECK_TIMEOUT_MS)
          return [name, 'ok'] as const
        } catch (error) {
          request.log.warn({ err: error, check: name }, 'readiness check failed')
          return [name, 'failing'] as const
        }
      }),
    )
    const ready = !closing && results.every(([, result]) => result === 'ok')
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) })
  })
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

import { createServer } from 'node:http'
import type { Metrics } from '../metrics.ts'

/** MetricsListener is the port that serves /metrics apart from the service's own. */
export interface MetricsListener {
  port: number
  close(): Promise<void>
}

/**
 * startMetricsListener serves GET /metrics (and nothing else) on a port of its own, for a
 * Prometheus scraper on the inside: the service's port, the gateway's above all, is public.
 */
export async function startMetricsListener(options: {
  host: string
  port: number
  metrics: Metrics
}): Promise<MetricsListener> {
  const { registry } = options.metrics
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n')
      return
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('Metrics failed\n'),
    )
  })
  server.requestTimeout = 10_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => resolve())
  })
  const address = server.address()
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

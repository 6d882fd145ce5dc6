// bench/read-load.ts loads the product reads (GET /api/products and /api/products/{id}) with
// autocannon: at a modest fixed rate beside the checkouts, and flat out on its own for the shop's
// read capacity, which the report sets against the Fastify hello-world ceiling.
import autocannon from 'autocannon'

export interface ReadLoadResult {
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  /** errors are non-2xx answers, connection errors and timeouts. */
  errors: number
}

export interface ReadLoadOptions {
  gatewayUrl: string
  paths: readonly string[]
  durationSeconds: number
  connections: number
  /** ratePerSecond caps the requests across all connections; unset: as many as the shop answers. */
  ratePerSecond?: number
}

/** runReadLoad sends the read paths in turn on every connection for `durationSeconds`. */
export async function runReadLoad(options: ReadLoadOptions): Promise<ReadLoadResult> {
  const result = await autocannon({
    url: options.gatewayUrl,
    connections: options.connections,
    duration: options.durationSeconds,
    ...(options.ratePerSecond === undefined ? {} : { overallRate: options.ratePerSecond }),
    requests: options.paths.map((path) => ({ method: 'GET' as const, path })),
  })
  return {
    requestsPerSecond: Math.round(result['2xx'] / result.duration),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.non2xx + result.errors,
  }
}

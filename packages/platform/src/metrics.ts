import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client'

// EVENT_LOOP_SAMPLE_MS is how often the event loop's delay is sampled (prom-client's default is
// 10 ms). Each sample is a timer that wakes an idle process: at 10 ms that was 100 wake-ups a
// second, ~0.35% of a core per service at rest here. Sampled every 100 ms, the lag figures
// still read the delay at moments spread evenly over time, and any stall of 100 ms or more is
// always caught; a shorter one is caught in proportion to its length.
const EVENT_LOOP_SAMPLE_MS = 100

/**
 * createMetrics gives a service its own Prometheus registry, so that services sharing one
 * process (the embedded mode) keep their figures apart, with process metrics (unless
 * `processMetrics: false`: another service of the process has them), the HTTP request histogram
 * and the rate-limit rejections every service exposes on /metrics.
 */
export function createMetrics(service: string, options: { processMetrics?: boolean } = {}) {
  const registry = new Registry()
  registry.setDefaultLabels({ service })
  if (options.processMetrics ?? true) {
    collectDefaultMetrics({
      register: registry,
      eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
    })
  }
  const httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  })
  const rateLimited = new Counter({
    name: 'rate_limit_rejections_total',
    help: 'Requests refused with 429 (a rate limit or in-flight bound), by route',
    labelNames: ['route'] as const,
    registers: [registry],
  })
  return { registry, httpRequestDuration, rateLimited }
}

export type Metrics = ReturnType<typeof createMetrics>

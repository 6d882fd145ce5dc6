// bench/latency-summary.ts turns recorded durations into the percentiles the report shows. A run
// records at most a few hundred thousand samples, so they are kept and sorted: exact percentiles,
// no histogram buckets to explain.

export interface LatencySummary {
  count: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  maxMs: number
  meanMs: number
}

/** summarizeLatencies gives the nearest-rank percentiles of `samplesMs`; NaN for none. */
export function summarizeLatencies(samplesMs: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samplesMs).sort()
  const at = (quantile: number) =>
    sorted.length === 0 ? NaN : (sorted[Math.ceil(quantile * sorted.length) - 1] as number)
  const sum = sorted.reduce((total, value) => total + value, 0)
  return {
    count: sorted.length,
    p50Ms: round(at(0.5)),
    p95Ms: round(at(0.95)),
    p99Ms: round(at(0.99)),
    maxMs: round(sorted.length === 0 ? NaN : (sorted[sorted.length - 1] as number)),
    meanMs: round(sorted.length === 0 ? NaN : sum / sorted.length),
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100
}

/**
 * ProcessorRetries is how often the payments consumers try an event whose processor call failed,
 * and how long they wait between tries. A charge that still fails transiently on the last try
 * fails as `processing_error`.
 */
export interface ProcessorRetries {
  maxAttempts: number
  backoffMs: readonly number[]
}

/** processorRetries is the bus's delivery policy (maxDeliver, backoff) for ProcessorRetries. */
export const processorRetries = (retries: ProcessorRetries) => ({
  maxDeliver: retries.maxAttempts,
  backoffMs: retries.backoffMs,
})

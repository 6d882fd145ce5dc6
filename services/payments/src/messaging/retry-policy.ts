/**
 * RetryPolicy is how often the payments consumers try an event whose processor call failed, and
 * how long they wait between tries (the bus's maxDeliver and backoff). A charge that still fails
 * transiently on the last try fails as `processing_error`.
 */
export interface RetryPolicy {
  maxAttempts: number
  backoffMs: readonly number[]
}

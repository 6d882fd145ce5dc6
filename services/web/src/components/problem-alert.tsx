import { messageOf } from '../api/problem.ts'

/** ProblemAlert says what went wrong in words, and offers to try again when that can help. */
export function ProblemAlert({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div class="alert" role="alert">
      <p>{messageOf(error)}</p>
      {onRetry && (
        <button type="button" class="button secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  )
}

/** Loading is the placeholder while something loads, announced politely to screen readers. */
export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status">
      Loading {what}…
    </p>
  )
}

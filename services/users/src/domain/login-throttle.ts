/** LoginThrottle is what one normalized email's sign-in attempts left behind. */
export interface LoginThrottle {
  attempts: number
  lockedUntil: Date | null
  lastAttemptAt: Date
}

export interface LoginThrottleSettings {
  /** freeAttempts is how many attempts in a row may fail before each further one has to wait. */
  freeAttempts: number
  baseDelaySeconds: number
  maxDelaySeconds: number
}

export type LoginAttemptDecision =
  | { admitted: true; next: LoginThrottle }
  | { admitted: false; next: LoginThrottle; retryAfterSeconds: number }

/** FORGET_AFTER_MS is how long after the last attempt an email's count starts again from zero. */
export const FORGET_AFTER_MS = 24 * 60 * 60 * 1000

/**
 * admitLoginAttempt decides whether a sign-in attempt may check the password. It counts the
 * attempt as failed before the check (a success clears the count), so parallel guesses cannot
 * slip through while the first ones are still being checked. From the free-th attempt on, the
 * next one waits: base delay, doubling with each attempt, capped so an attacker can delay the
 * owner by at most the cap. Refused attempts change nothing: hammering does not lengthen the wait.
 */
export function admitLoginAttempt(
  settings: LoginThrottleSettings,
  current: LoginThrottle,
  now: Date,
): LoginAttemptDecision {
  if (current.lockedUntil && current.lockedUntil > now) {
    const waitMs = current.lockedUntil.getTime() - now.getTime()
    return { admitted: false, next: current, retryAfterSeconds: Math.ceil(waitMs / 1000) }
  }
  const forgotten = now.getTime() - current.lastAttemptAt.getTime() > FORGET_AFTER_MS
  const attempts = (forgotten ? 0 : current.attempts) + 1
  const lockedUntil =
    attempts >= settings.freeAttempts
      ? new Date(now.getTime() + loginDelaySeconds(settings, attempts) * 1000)
      : null
  return { admitted: true, next: { attempts, lockedUntil, lastAttemptAt: now } }
}

/** loginDelaySeconds is the wait after the given number of failed attempts in a row. */
export function loginDelaySeconds(settings: LoginThrottleSettings, attempts: number): number {
  if (attempts < settings.freeAttempts) return 0
  const doublings = attempts - settings.freeAttempts
  return Math.min(settings.maxDelaySeconds, settings.baseDelaySeconds * 2 ** doublings)
}

/** LoginThrottle is what one normalized email's sign-in attempts from one address left behind. */
export interface LoginThrottle {
  attempts: number
  lockedUntil: Date | null
  lastAttemptAt: Date
}

/** LoginThrottleKey is what the throttle counts by: an email, from one client address. */
export interface LoginThrottleKey {
  emailKey: string
  clientAddress: string
}

export interface LoginThrottleSettings {
  /** freeAttempts is how many attempts in a row may fail from one address before each further one has to wait. */
  freeAttempts: number
  baseDelaySeconds: number
  maxDelaySeconds: number
  /**
   * emailFailuresUnderAttack is how many failures an email may have from all addresses together
   * (within a day) before each address gets only one free attempt.
   */
  emailFailuresUnderAttack: number
}

export type LoginAttemptDecision =
  | { admitted: true; next: LoginThrottle }
  | { admitted: false; next: LoginThrottle; retryAfterSeconds: number }

/** FORGET_AFTER_MS is how long after the last attempt (or failure) a count starts again from zero. */
export const FORGET_AFTER_MS = 24 * 60 * 60 * 1000

/**
 * admitLoginAttempt decides whether a sign-in attempt for an email, from one client address,
 * may check the password. It counts the attempt as failed before the check (a success clears
 * the count), so parallel guesses cannot slip through while the first ones are still being
 * checked. From the free-th attempt on, the next one from that address waits: base delay,
 * doubling with each attempt, up to the cap. Refused attempts change nothing: hammering does not
 * lengthen the wait.
 *
 * An address that has not failed for this email is always admitted: whoever fails from
 * elsewhere, the owner can sign in. An email that many addresses fail on (`emailFailures` at
 * `emailFailuresUnderAttack` or more) gives each address one free attempt instead of
 * `freeAttempts`, which slows a guesser with many addresses as much as that rule allows.
 */
export function admitLoginAttempt(
  settings: LoginThrottleSettings,
  current: LoginThrottle,
  now: Date,
  emailFailures = 0,
): LoginAttemptDecision {
  if (current.lockedUntil && current.lockedUntil > now) {
    const waitMs = current.lockedUntil.getTime() - now.getTime()
    return { admitted: false, next: current, retryAfterSeconds: Math.ceil(waitMs / 1000) }
  }
  const forgotten = now.getTime() - current.lastAttemptAt.getTime() > FORGET_AFTER_MS
  const attempts = (forgotten ? 0 : current.attempts) + 1
  const freeAttempts =
    emailFailures >= settings.emailFailuresUnderAttack ? 1 : settings.freeAttempts
  const lockedUntil =
    attempts >= freeAttempts
      ? new Date(now.getTime() + loginDelaySeconds(settings, attempts, freeAttempts) * 1000)
      : null
  return { admitted: true, next: { attempts, lockedUntil, lastAttemptAt: now } }
}

/** loginDelaySeconds is the wait after the given number of failed attempts in a row. */
export function loginDelaySeconds(
  settings: LoginThrottleSettings,
  attempts: number,
  freeAttempts = settings.freeAttempts,
): number {
  if (attempts < freeAttempts) return 0
  const doublings = attempts - freeAttempts
  return Math.min(settings.maxDelaySeconds, settings.baseDelaySeconds * 2 ** doublings)
}

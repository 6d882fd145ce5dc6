import { describe, expect, it } from 'vitest'
import {
  admitLoginAttempt,
  FORGET_AFTER_MS,
  loginDelaySeconds,
  type LoginThrottle,
  type LoginThrottleSettings,
} from './login-throttle.ts'

const settings: LoginThrottleSettings = {
  freeAttempts: 3,
  baseDelaySeconds: 2,
  maxDelaySeconds: 60,
  emailFailuresUnderAttack: 10,
}
const start = new Date('2030-01-01T00:00:00Z')
const fresh: LoginThrottle = { attempts: 0, lockedUntil: null, lastAttemptAt: start }
const later = (ms: number) => new Date(start.getTime() + ms)

describe('admitLoginAttempt', () => {
  it('when attempts stay under the free ones, then each is admitted without a wait', () => {
    const first = admitLoginAttempt(settings, fresh, start)
    expect(first).toEqual({
      admitted: true,
      next: { attempts: 1, lockedUntil: null, lastAttemptAt: start },
    })
    const second = admitLoginAttempt(settings, first.next, later(10))
    expect(second.next).toMatchObject({ attempts: 2, lockedUntil: null })
  })

  it('when the last free attempt is admitted, then the next one must wait the base delay', () => {
    const third = admitLoginAttempt(settings, { ...fresh, attempts: 2 }, start)
    expect(third).toMatchObject({ admitted: true, next: { attempts: 3, lockedUntil: later(2000) } })
    expect(admitLoginAttempt(settings, third.next, later(500))).toEqual({
      admitted: false,
      next: third.next,
      retryAfterSeconds: 2,
    })
  })

  it('when an attempt comes inside the wait, then it is refused and changes nothing', () => {
    const locked = { attempts: 4, lockedUntil: later(4000), lastAttemptAt: start }
    const refused = admitLoginAttempt(settings, locked, later(100))
    expect(refused).toEqual({ admitted: false, next: locked, retryAfterSeconds: 4 })
  })

  it('when the wait is over, then one more attempt is admitted and the wait doubles', () => {
    const locked = { attempts: 4, lockedUntil: later(4000), lastAttemptAt: start }
    expect(admitLoginAttempt(settings, locked, later(4000))).toMatchObject({
      admitted: true,
      next: { attempts: 5, lockedUntil: later(4000 + 8000) },
    })
  })

  it('when a day passes without attempts, then the count starts again', () => {
    const old = { attempts: 40, lockedUntil: later(60_000), lastAttemptAt: start }
    expect(admitLoginAttempt(settings, old, later(FORGET_AFTER_MS + 1))).toMatchObject({
      admitted: true,
      next: { attempts: 1, lockedUntil: null },
    })
  })
})

describe('admitLoginAttempt for an email failing from many addresses', () => {
  it('when an address has not failed for the email, then its attempt is admitted, attack or not', () => {
    for (const emailFailures of [0, 9, 10, 10_000]) {
      expect(admitLoginAttempt(settings, fresh, start, emailFailures)).toMatchObject({
        admitted: true,
      })
    }
  })

  it('when the email has failed as often as emailFailuresUnderAttack, then each address gets one free attempt', () => {
    const first = admitLoginAttempt(settings, fresh, start, 10)
    expect(first).toMatchObject({ admitted: true, next: { attempts: 1, lockedUntil: later(2000) } })
    expect(admitLoginAttempt(settings, first.next, later(1000), 11)).toMatchObject({
      admitted: false,
      retryAfterSeconds: 1,
    })
    // Below the mark, the same address would have had three.
    expect(admitLoginAttempt(settings, fresh, start, 9).next.lockedUntil).toBeNull()
  })
})

describe('loginDelaySeconds', () => {
  it('doubles from the base after the free attempts and stops at the cap', () => {
    expect([2, 3, 4, 5, 6, 7, 8, 1000].map((n) => loginDelaySeconds(settings, n))).toEqual([
      0, 2, 4, 8, 16, 32, 60, 60,
    ])
  })
})

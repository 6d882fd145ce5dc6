import { randomUUID } from 'node:crypto'
import { rateLimited, unauthorized } from '@microshop/platform/errors'
import type { Accounts } from './accounts.ts'
import { admitLoginAttempt } from './login-throttle.ts'
import type { TokenPair } from './tokens.ts'
import { normalizeEmail } from './user.ts'

/**
 * logIn exchanges an email and password for a token pair and starts a session. An unknown
 * email and a wrong password fail alike, in answer and in time; attempts per email are
 * throttled whether or not the account exists, so the throttle gives nothing away either.
 */
export async function logIn(
  accounts: Accounts,
  input: { email: string; password: string },
): Promise<TokenPair> {
  const emailKey = normalizeEmail(input.email)
  const now = accounts.now()
  const attempt = await accounts.loginThrottles.update(emailKey, now, (current) =>
    admitLoginAttempt(accounts.loginThrottle, current, now),
  )
  if (!attempt.admitted) {
    throw rateLimited(
      'Too many failed sign-ins for this email. Wait before trying again.',
      attempt.retryAfterSeconds,
    )
  }

  const account = await accounts.users.findByEmailKey(emailKey)
  const passwordMatches = await accounts.passwords.verify(account?.passwordHash, input.password)
  if (!account || !passwordMatches) throw unauthorized('The email or password is wrong.')

  await accounts.loginThrottles.clear(emailKey)
  if (accounts.passwords.needsRehash(account.passwordHash)) {
    const passwordHash = await accounts.passwords.hash(input.password)
    await accounts.users.setPasswordHash(account.id, passwordHash, now)
  }
  const issued = await accounts.tokens.issue(account, now)
  await accounts.sessions.start({
    id: randomUUID(),
    userId: account.id,
    refreshToken: issued.refreshToken,
    now,
  })
  return issued.pair
}

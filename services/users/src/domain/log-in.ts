import { randomUUID } from 'node:crypto'
import { rateLimited, unauthorized } from '@microshop/platform/errors'
import type { UsersContext } from './users-context.ts'
import { admitLoginAttempt, FORGET_AFTER_MS } from './login-throttle.ts'
import type { TokenPair } from './tokens.ts'
import { normalizeEmail } from './user.ts'

/**
 * logIn exchanges an email and password for a token pair and starts a session. An unknown
 * email and a wrong password fail alike, in answer and in time; attempts are throttled per
 * email and client address whether or not the account exists, so the throttle gives nothing
 * away either, and failures from one address never lock the owner out from another.
 */
export async function logIn(
  ctx: UsersContext,
  input: { email: string; password: string; clientAddress: string },
): Promise<TokenPair> {
  const emailKey = normalizeEmail(input.email)
  const key = { emailKey, clientAddress: input.clientAddress }
  const now = ctx.now()
  const countSince = new Date(now.getTime() - FORGET_AFTER_MS)
  const emailFailures = await ctx.store.loginThrottles.failuresSince(emailKey, countSince)
  const attempt = await ctx.store.loginThrottles.update(key, now, (current) =>
    admitLoginAttempt(ctx.settings.loginThrottle, current, now, emailFailures),
  )
  if (!attempt.admitted) {
    throw rateLimited(
      'Too many failed sign-ins for this email from this address. Wait before trying again.',
      attempt.retryAfterSeconds,
    )
  }

  const account = await ctx.store.users.findByEmailKey(emailKey)
  const passwordMatches = await ctx.passwords.verify(account?.passwordHash, input.password)
  if (!account || !passwordMatches) {
    await ctx.store.loginThrottles.countFailure(emailKey, now, countSince)
    throw unauthorized('The email or password is wrong.')
  }

  await ctx.store.loginThrottles.clear(key)
  if (ctx.passwords.needsRehash(account.passwordHash)) {
    const passwordHash = await ctx.passwords.hash(input.password)
    await ctx.store.users.setPasswordHash(account.id, passwordHash, now)
  }
  const issued = await ctx.tokens.issue(account, now)
  await ctx.store.sessions.start({
    id: randomUUID(),
    userId: account.id,
    refreshToken: issued.refreshToken,
    now,
  })
  return issued.pair
}

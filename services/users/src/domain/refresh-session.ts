import { unauthorized } from '@microshop/platform/errors'
import type { UsersContext } from './users-context.ts'
import { hashRefreshToken, type TokenPair } from './tokens.ts'

const invalidRefreshToken = () => unauthorized('The refresh token is not valid.')

/**
 * refreshSession trades a refresh token for a new pair and retires the old token. A retired
 * token coming back means two parties hold it, the owner and a thief, and there is no telling
 * which is which: the whole session is revoked and both must sign in again.
 */
export async function refreshSession(
  ctx: UsersContext,
  input: { refreshToken: string },
): Promise<TokenPair> {
  const now = ctx.now()
  const usedHash = hashRefreshToken(input.refreshToken)
  const token = await ctx.store.sessions.findRefreshToken(usedHash)
  if (!token) throw invalidRefreshToken()
  if (token.usedAt) {
    await revokeForReuse(ctx, token.sessionId, token.userId, now)
    throw invalidRefreshToken()
  }
  if (token.sessionRevokedAt || token.expiresAt <= now) throw invalidRefreshToken()

  const user = await ctx.store.users.findById(token.userId)
  if (!user) throw invalidRefreshToken()
  const issued = await ctx.tokens.issue(user, now)
  const rotated = await ctx.store.sessions.rotate({
    sessionId: token.sessionId,
    usedHash,
    next: issued.refreshToken,
    now,
  })
  if (!rotated) {
    // Another request retired this token between our read and our write: the same reuse.
    await revokeForReuse(ctx, token.sessionId, token.userId, now)
    throw invalidRefreshToken()
  }
  return issued.pair
}

async function revokeForReuse(ctx: UsersContext, sessionId: string, userId: string, now: Date) {
  await ctx.store.sessions.revoke(sessionId, 'reuse', now)
  ctx.logger.warn({ sessionId, userId }, 'refresh token reused; session revoked')
}

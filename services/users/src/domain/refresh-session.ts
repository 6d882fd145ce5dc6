import { unauthorized } from '@microshop/platform/errors'
import type { Accounts } from './accounts.ts'
import { hashRefreshToken, type TokenPair } from './tokens.ts'

const invalidRefreshToken = () => unauthorized('The refresh token is not valid.')

/**
 * refreshSession trades a refresh token for a new pair and retires the old token. A retired
 * token coming back means two parties hold it, the owner and a thief, and there is no telling
 * which is which: the whole session is revoked and both must sign in again.
 */
export async function refreshSession(
  accounts: Accounts,
  input: { refreshToken: string },
): Promise<TokenPair> {
  const now = accounts.now()
  const usedHash = hashRefreshToken(input.refreshToken)
  const token = await accounts.sessions.findRefreshToken(usedHash)
  if (!token) throw invalidRefreshToken()
  if (token.usedAt) {
    await revokeForReuse(accounts, token.sessionId, token.userId, now)
    throw invalidRefreshToken()
  }
  if (token.sessionRevokedAt || token.expiresAt <= now) throw invalidRefreshToken()

  const user = await accounts.users.findById(token.userId)
  if (!user) throw invalidRefreshToken()
  const issued = await accounts.tokens.issue(user, now)
  const rotated = await accounts.sessions.rotate({
    sessionId: token.sessionId,
    usedHash,
    next: issued.refreshToken,
    now,
  })
  if (!rotated) {
    // Another request retired this token between our read and our write: the same reuse.
    await revokeForReuse(accounts, token.sessionId, token.userId, now)
    throw invalidRefreshToken()
  }
  return issued.pair
}

async function revokeForReuse(accounts: Accounts, sessionId: string, userId: string, now: Date) {
  await accounts.sessions.revoke(sessionId, 'reuse', now)
  accounts.logger.warn({ sessionId, userId }, 'refresh token reused; session revoked')
}

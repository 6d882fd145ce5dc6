import type { Accounts } from './accounts.ts'
import { hashRefreshToken } from './tokens.ts'

/**
 * logOut ends the session a refresh token belongs to. An unknown token is no error: the caller
 * wants to be signed out and is, and the answer says nothing about which tokens exist.
 */
export async function logOut(accounts: Accounts, input: { refreshToken: string }): Promise<void> {
  const token = await accounts.sessions.findRefreshToken(hashRefreshToken(input.refreshToken))
  if (token) await accounts.sessions.revoke(token.sessionId, 'logout', accounts.now())
}

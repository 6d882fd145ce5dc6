import type { UsersContext } from './users-context.ts'
import { hashRefreshToken } from './tokens.ts'

/**
 * logOut ends the session a refresh token belongs to. An unknown token is no error: the caller
 * wants to be signed out and is, and the answer says nothing about which tokens exist.
 */
export async function logOut(ctx: UsersContext, input: { refreshToken: string }): Promise<void> {
  const token = await ctx.store.sessions.findRefreshToken(hashRefreshToken(input.refreshToken))
  if (token) await ctx.store.sessions.revoke(token.sessionId, 'logout', ctx.now())
}

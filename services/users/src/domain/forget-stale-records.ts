import type { UsersContext } from './users-context.ts'
import { FORGET_AFTER_MS } from './login-throttle.ts'

/**
 * forgetStaleRecords deletes what can no longer matter: sessions whose every token has expired
 * (a reused token of an expired session is refused anyway) and throttles nobody has touched for
 * a day. It runs on a timer; every replica may run it, the deletes do not conflict.
 */
export async function forgetStaleRecords(
  ctx: UsersContext,
): Promise<{ sessions: number; loginThrottles: number }> {
  const now = ctx.now()
  return {
    sessions: await ctx.store.sessions.pruneExpired(now),
    loginThrottles: await ctx.store.loginThrottles.pruneStale(
      new Date(now.getTime() - FORGET_AFTER_MS),
    ),
  }
}

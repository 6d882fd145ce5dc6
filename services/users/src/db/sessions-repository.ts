import { atomically, type Executor } from '@microshop/platform/db/store'
import type { UsersRepositories } from '../domain/users-context.ts'
import type { UsersTables } from './tables.ts'

/** sessionsRepository stores sessions (refresh token families) and their tokens' hashes. */
export function sessionsRepository(db: Executor<UsersTables>): UsersRepositories['sessions'] {
  return {
    async start(session) {
      await atomically(db, async (trx) => {
        await trx
          .insertInto('sessions')
          .values({
            id: session.id,
            userId: session.userId,
            createdAt: session.now,
            expiresAt: session.refreshToken.expiresAt,
          })
          .execute()
        await trx
          .insertInto('refreshTokens')
          .values({
            tokenHash: session.refreshToken.hash,
            sessionId: session.id,
            issuedAt: session.now,
            expiresAt: session.refreshToken.expiresAt,
          })
          .execute()
      })
    },

    async findRefreshToken(hash) {
      return db
        .selectFrom('refreshTokens')
        .innerJoin('sessions', 'sessions.id', 'refreshTokens.sessionId')
        .select([
          'refreshTokens.sessionId',
          'sessions.userId',
          'refreshTokens.expiresAt',
          'refreshTokens.usedAt',
          'sessions.revokedAt as sessionRevokedAt',
        ])
        .where('refreshTokens.tokenHash', '=', hash)
        .executeTakeFirst()
    },

    /**
     * rotate marks a token used and adds its successor to the same live session, in one
     * transaction. It gives false, changing nothing, when the token was already used or the
     * session revoked: the compare-and-set that makes two concurrent refreshes with one token
     * yield one new token, not two.
     */
    async rotate(rotation) {
      return atomically(db, async (trx) => {
        const used = await trx
          .updateTable('refreshTokens')
          .set({ usedAt: rotation.now })
          .where('tokenHash', '=', rotation.usedHash)
          .where('sessionId', '=', rotation.sessionId)
          .where('usedAt', 'is', null)
          .where((eb) =>
            eb.exists(
              eb
                .selectFrom('sessions')
                .select('id')
                .where('id', '=', rotation.sessionId)
                .where('revokedAt', 'is', null),
            ),
          )
          .returning('tokenHash')
          .executeTakeFirst()
        if (!used) return false
        await trx
          .updateTable('sessions')
          .set({ expiresAt: rotation.next.expiresAt })
          .where('id', '=', rotation.sessionId)
          .execute()
        await trx
          .insertInto('refreshTokens')
          .values({
            tokenHash: rotation.next.hash,
            sessionId: rotation.sessionId,
            issuedAt: rotation.now,
            expiresAt: rotation.next.expiresAt,
          })
          .execute()
        return true
      })
    },

    /** revoke ends a session and so every refresh token of it; revoking twice keeps the first reason. */
    async revoke(sessionId, reason, now) {
      await db
        .updateTable('sessions')
        .set({ revokedAt: now, revokedReason: reason })
        .where('id', '=', sessionId)
        .where('revokedAt', 'is', null)
        .execute()
    },

    /** pruneExpired deletes sessions whose newest token has expired; their tokens go with them. */
    async pruneExpired(now) {
      const result = await db.deleteFrom('sessions').where('expiresAt', '<', now).executeTakeFirst()
      return Number(result.numDeletedRows)
    },
  }
}

import type { Kysely } from 'kysely'
import type { LoginThrottle } from '../domain/login-throttle.ts'
import type { UsersDatabase } from './tables.ts'

/** loginThrottlesRepository keeps each normalized email's sign-in attempts, shared by all replicas. */
export function loginThrottlesRepository(db: Kysely<UsersDatabase>) {
  return {
    /**
     * update runs `decide` on an email's throttle under a row lock and stores the state it
     * returns, so that concurrent attempts on any replica are counted one after the other. An
     * email seen for the first time starts with no attempts.
     */
    async update<Decision extends { next: LoginThrottle }>(
      emailKey: string,
      now: Date,
      decide: (current: LoginThrottle) => Decision,
    ): Promise<Decision> {
      return db.transaction().execute(async (trx) => {
        await trx
          .insertInto('loginThrottles')
          .values({ emailKey, attempts: 0, lockedUntil: null, lastAttemptAt: now })
          .onConflict((conflict) => conflict.column('emailKey').doNothing())
          .execute()
        const current = await trx
          .selectFrom('loginThrottles')
          .select(['attempts', 'lockedUntil', 'lastAttemptAt'])
          .where('emailKey', '=', emailKey)
          .forUpdate()
          .executeTakeFirstOrThrow()
        const decision = decide(current)
        await trx
          .updateTable('loginThrottles')
          .set(decision.next)
          .where('emailKey', '=', emailKey)
          .execute()
        return decision
      })
    },

    async clear(emailKey: string): Promise<void> {
      await db.deleteFrom('loginThrottles').where('emailKey', '=', emailKey).execute()
    },

    /** pruneStale deletes throttles whose last attempt and wait both ended before `before`. */
    async pruneStale(before: Date): Promise<number> {
      const result = await db
        .deleteFrom('loginThrottles')
        .where('lastAttemptAt', '<', before)
        .where((eb) => eb.or([eb('lockedUntil', 'is', null), eb('lockedUntil', '<', before)]))
        .executeTakeFirst()
      return Number(result.numDeletedRows)
    },
  }
}

export type LoginThrottlesRepository = ReturnType<typeof loginThrottlesRepository>

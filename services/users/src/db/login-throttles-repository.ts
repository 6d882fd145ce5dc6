import { sql } from 'kysely'
import { atomically, type Executor } from '@microshop/platform/db/store'
import type { UsersRepositories } from '../domain/users-context.ts'
import type { UsersTables } from './tables.ts'

/**
 * loginThrottlesRepository keeps each normalized email's sign-in attempts per client address,
 * and each email's failures from all addresses, shared by all replicas.
 */
export function loginThrottlesRepository(
  db: Executor<UsersTables>,
): UsersRepositories['loginThrottles'] {
  return {
    /**
     * update runs `decide` on the throttle of an email from one address under a row lock and
     * stores the state it returns, so that concurrent attempts on any replica are counted one
     * after the other. A key seen for the first time starts with no attempts.
     */
    async update({ emailKey, clientAddress }, now, decide) {
      return atomically(db, async (trx) => {
        await trx
          .insertInto('loginThrottles')
          .values({ emailKey, clientAddress, attempts: 0, lockedUntil: null, lastAttemptAt: now })
          .onConflict((conflict) => conflict.columns(['emailKey', 'clientAddress']).doNothing())
          .execute()
        const current = await trx
          .selectFrom('loginThrottles')
          .select(['attempts', 'lockedUntil', 'lastAttemptAt'])
          .where('emailKey', '=', emailKey)
          .where('clientAddress', '=', clientAddress)
          .forUpdate()
          .executeTakeFirstOrThrow()
        const decision = decide(current)
        await trx
          .updateTable('loginThrottles')
          .set(decision.next)
          .where('emailKey', '=', emailKey)
          .where('clientAddress', '=', clientAddress)
          .execute()
        return decision
      })
    },

    async clear({ emailKey, clientAddress }) {
      await db
        .deleteFrom('loginThrottles')
        .where('emailKey', '=', emailKey)
        .where('clientAddress', '=', clientAddress)
        .execute()
    },

    async countFailure(emailKey, now, since) {
      await db
        .insertInto('loginFailures')
        .values({ emailKey, failures: 1, lastFailureAt: now })
        .onConflict((conflict) =>
          conflict.column('emailKey').doUpdateSet({
            failures: sql`case when login_failures.last_failure_at < ${since} then 1
              else login_failures.failures + 1 end`,
            lastFailureAt: now,
          }),
        )
        .execute()
    },

    async failuresSince(emailKey, since) {
      const row = await db
        .selectFrom('loginFailures')
        .select('failures')
        .where('emailKey', '=', emailKey)
        .where('lastFailureAt', '>=', since)
        .executeTakeFirst()
      return row?.failures ?? 0
    },

    /** pruneStale deletes throttles whose last attempt and wait both ended, and counts whose last failure was, before `before`. */
    async pruneStale(before) {
      const throttles = await db
        .deleteFrom('loginThrottles')
        .where('lastAttemptAt', '<', before)
        .where((eb) => eb.or([eb('lockedUntil', 'is', null), eb('lockedUntil', '<', before)]))
        .executeTakeFirst()
      const failures = await db
        .deleteFrom('loginFailures')
        .where('lastFailureAt', '<', before)
        .executeTakeFirst()
      return Number(throttles.numDeletedRows) + Number(failures.numDeletedRows)
    },
  }
}

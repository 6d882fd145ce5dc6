import type { Executor } from '@microshop/platform/db/store'
import type { UsersRepositories } from '../domain/users-context.ts'
import type { UsersTables } from './tables.ts'

const userColumns = ['id', 'email', 'name', 'role', 'createdAt'] as const

/** usersRepository stores accounts; emails are looked up by their normalized key. */
export function usersRepository(db: Executor<UsersTables>): UsersRepositories['users'] {
  return {
    /** insert adds an account, or gives undefined when its email is taken. */
    async insert(account) {
      return db
        .insertInto('users')
        .values({ ...account, updatedAt: account.createdAt })
        .onConflict((conflict) => conflict.column('emailKey').doNothing())
        .returning(userColumns)
        .executeTakeFirst()
    },

    async findById(id) {
      return db.selectFrom('users').select(userColumns).where('id', '=', id).executeTakeFirst()
    },

    async findByEmailKey(emailKey) {
      return db
        .selectFrom('users')
        .select([...userColumns, 'passwordHash'])
        .where('emailKey', '=', emailKey)
        .executeTakeFirst()
    },

    async setRole(id, role, now) {
      await db.updateTable('users').set({ role, updatedAt: now }).where('id', '=', id).execute()
    },

    async setPasswordHash(id, passwordHash, now) {
      await db
        .updateTable('users')
        .set({ passwordHash, updatedAt: now })
        .where('id', '=', id)
        .execute()
    },
  }
}

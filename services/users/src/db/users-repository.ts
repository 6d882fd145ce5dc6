import type { Kysely } from 'kysely'
import type { Account, Role, User } from '../domain/user.ts'
import type { UsersDatabase } from './tables.ts'

export interface NewAccount {
  id: string
  email: string
  emailKey: string
  name: string
  passwordHash: string
  role: Role
  createdAt: Date
}

const userColumns = ['id', 'email', 'name', 'role', 'createdAt'] as const

/** usersRepository stores accounts; emails are looked up by their normalized key. */
export function usersRepository(db: Kysely<UsersDatabase>) {
  return {
    /** insert adds an account, or gives undefined when its email is taken. */
    async insert(account: NewAccount): Promise<User | undefined> {
      return db
        .insertInto('users')
        .values({ ...account, updatedAt: account.createdAt })
        .onConflict((conflict) => conflict.column('emailKey').doNothing())
        .returning(userColumns)
        .executeTakeFirst()
    },

    async findById(id: string): Promise<User | undefined> {
      return db.selectFrom('users').select(userColumns).where('id', '=', id).executeTakeFirst()
    },

    async findByEmailKey(emailKey: string): Promise<Account | undefined> {
      return db
        .selectFrom('users')
        .select([...userColumns, 'passwordHash'])
        .where('emailKey', '=', emailKey)
        .executeTakeFirst()
    },

    async setRole(id: string, role: Role, now: Date): Promise<void> {
      await db.updateTable('users').set({ role, updatedAt: now }).where('id', '=', id).execute()
    },

    async setPasswordHash(id: string, passwordHash: string, now: Date): Promise<void> {
      await db
        .updateTable('users')
        .set({ passwordHash, updatedAt: now })
        .where('id', '=', id)
        .execute()
    },
  }
}

export type UsersRepository = ReturnType<typeof usersRepository>

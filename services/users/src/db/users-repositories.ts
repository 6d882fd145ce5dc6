import type { Executor } from '@microshop/platform/db/store'
import type { UsersRepositories } from '../domain/users-context.ts'
import { loginThrottlesRepository } from './login-throttles-repository.ts'
import { sessionsRepository } from './sessions-repository.ts'
import type { UsersTables } from './tables.ts'
import { usersRepository } from './users-repository.ts'

/** usersRepositories are the accounts tables on one executor: the database or a transaction. */
export function usersRepositories(db: Executor<UsersTables>): UsersRepositories {
  return {
    users: usersRepository(db),
    sessions: sessionsRepository(db),
    loginThrottles: loginThrottlesRepository(db),
  }
}

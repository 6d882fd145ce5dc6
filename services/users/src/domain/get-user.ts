import { notFound } from '@microshop/platform/errors'
import type { Accounts } from './accounts.ts'
import type { User } from './user.ts'

export async function getUser(accounts: Accounts, userId: string): Promise<User> {
  const user = await accounts.users.findById(userId)
  if (!user) throw notFound('There is no such user.')
  return user
}

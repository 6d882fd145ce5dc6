import { notFound } from '@microshop/platform/errors'
import type { UsersContext } from './users-context.ts'
import type { User } from './user.ts'

export async function getUser(ctx: UsersContext, userId: string): Promise<User> {
  const user = await ctx.store.users.findById(userId)
  if (!user) throw notFound('There is no such user.')
  return user
}

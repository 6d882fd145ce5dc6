import { randomUUID } from 'node:crypto'
import { conflict } from '@microshop/platform/errors'
import type { UsersContext } from './users-context.ts'
import { checkNewAccount, type NewAccountInput, type Role, type User } from './user.ts'

/** registerUser opens an account; an email taken in any letter case is a conflict. */
export async function registerUser(
  ctx: UsersContext,
  input: NewAccountInput,
  role: Role = 'customer',
): Promise<User> {
  const details = checkNewAccount(input)
  const user = await ctx.store.users.insert({
    id: randomUUID(),
    email: details.email,
    emailKey: details.emailKey,
    name: details.name,
    passwordHash: await ctx.passwords.hash(details.password),
    role,
    createdAt: ctx.now(),
  })
  if (!user) throw conflict('An account with this email already exists.')
  return user
}

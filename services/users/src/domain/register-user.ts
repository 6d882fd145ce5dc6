import { randomUUID } from 'node:crypto'
import { conflict } from '@microshop/platform/errors'
import type { Accounts } from './accounts.ts'
import { checkNewAccount, type NewAccountInput, type Role, type User } from './user.ts'

/** registerUser opens an account; an email taken in any letter case is a conflict. */
export async function registerUser(
  accounts: Accounts,
  input: NewAccountInput,
  role: Role = 'customer',
): Promise<User> {
  const details = checkNewAccount(input)
  const user = await accounts.users.insert({
    id: randomUUID(),
    email: details.email,
    emailKey: details.emailKey,
    name: details.name,
    passwordHash: await accounts.passwords.hash(details.password),
    role,
    createdAt: accounts.now(),
  })
  if (!user) throw conflict('An account with this email already exists.')
  return user
}

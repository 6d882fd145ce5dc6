import { isAppError } from '@microshop/platform/errors'
import type { Accounts } from './accounts.ts'
import { getUser } from './get-user.ts'
import { registerUser } from './register-user.ts'
import { normalizeEmail, type NewAccountInput, type User } from './user.ts'

/**
 * ensureAdmin makes the configured admin exist with the admin role: it creates the account, or
 * promotes an existing one. An existing account keeps its password: the setting seeds the
 * account, it does not reset the password at every restart.
 */
export async function ensureAdmin(
  accounts: Accounts,
  input: Pick<NewAccountInput, 'email' | 'password'>,
): Promise<User> {
  const emailKey = normalizeEmail(input.email)
  const existing = await accounts.users.findByEmailKey(emailKey)
  if (!existing) {
    try {
      return await registerUser(accounts, { ...input, name: 'Administrator' }, 'admin')
    } catch (error) {
      // A replica starting beside this one created it first; promote theirs below.
      if (!isAppError(error) || error.kind !== 'conflict') throw error
    }
  }
  const account = existing ?? (await accounts.users.findByEmailKey(emailKey))
  if (!account) throw new Error('The admin account vanished while it was being set up.')
  if (account.role !== 'admin') await accounts.users.setRole(account.id, 'admin', accounts.now())
  return getUser(accounts, account.id)
}

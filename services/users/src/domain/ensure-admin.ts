import { isAppError } from '@microshop/platform/errors'
import type { UsersContext } from './users-context.ts'
import { getUser } from './get-user.ts'
import { registerUser } from './register-user.ts'
import { normalizeEmail, type NewAccountInput, type User } from './user.ts'

/**
 * AdminEmailTaken stops the start-up: the configured admin email belongs to an account whose
 * password is not the configured one, so someone else may hold it.
 */
export class AdminEmailTaken extends Error {
  constructor(email: string) {
    super(
      `ADMIN_EMAIL ${email} belongs to an account whose password is not ADMIN_PASSWORD, so it is ` +
        'not made (or kept) admin: someone else may have registered it. If the account is yours, ' +
        'set ADMIN_PASSWORD to its password; otherwise choose an ADMIN_EMAIL that has no account ' +
        'yet, and look into who registered this one (docs/decisions/0012-hardening.md).',
    )
    this.name = 'AdminEmailTaken'
  }
}

/**
 * ensureAdmin makes the configured admin exist with the admin role. A new account is created
 * with the configured password. An existing one is made admin only if its password is the
 * configured one, which proves the operator set it: an account anyone could have registered
 * under that email first is never promoted, and never reset either. Start-up fails instead
 * (AdminEmailTaken), so the operator learns of it.
 */
export async function ensureAdmin(
  ctx: UsersContext,
  input: Pick<NewAccountInput, 'email' | 'password'>,
): Promise<User> {
  const emailKey = normalizeEmail(input.email)
  let account = await ctx.store.users.findByEmailKey(emailKey)
  if (!account) {
    try {
      return await registerUser(ctx, { ...input, name: 'Administrator' }, 'admin')
    } catch (error) {
      // A replica starting beside this one created it first; it is checked like any other below.
      if (!isAppError(error) || error.kind !== 'conflict') throw error
    }
    account = await ctx.store.users.findByEmailKey(emailKey)
    if (!account) throw new Error('The admin account vanished while it was being set up.')
  }
  if (!(await ctx.passwords.verify(account.passwordHash, input.password))) {
    throw new AdminEmailTaken(input.email)
  }
  if (account.role !== 'admin') await ctx.store.users.setRole(account.id, 'admin', ctx.now())
  return getUser(ctx, account.id)
}

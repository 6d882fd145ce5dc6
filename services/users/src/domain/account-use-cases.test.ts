import { randomUUID } from 'node:crypto'
import argon2 from 'argon2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '@microshop/platform/db/database'
import { createLogger } from '@microshop/platform/logger'
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from '@microshop/platform/testing/databases'
import { loadUsersConfig } from '../config.ts'
import { openUsersDatabase } from '../testing/users-database.ts'
import type { UsersTables } from '../db/tables.ts'
import { createUsersContext } from '../service.ts'
import { loadSigningKeys } from '../signing-keys.ts'
import type { UsersContext } from './users-context.ts'
import { AdminEmailTaken, ensureAdmin } from './ensure-admin.ts'
import { forgetStaleRecords } from './forget-stale-records.ts'
import { getUser } from './get-user.ts'
import { logIn } from './log-in.ts'
import { FORGET_AFTER_MS } from './login-throttle.ts'
import { registerUser } from './register-user.ts'
import { hashRefreshToken } from './tokens.ts'

const password = 'correct horse battery'
const CLIENT = '192.0.2.10'

describe.each(databaseKinds)('account use cases on %s', (kind) => {
  let testDb: TestDatabase
  let database: Database<UsersTables>
  let ctx: UsersContext
  // checkedHashes records each hash the real password check ran against (undefined: no account).
  const checkedHashes: (string | undefined)[] = []

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    database = await openUsersDatabase(testDb)
    const config = loadUsersConfig({ DATA_DIR: 'memory://', LOG_LEVEL: 'silent' })
    const created = await createUsersContext(
      database,
      config,
      await loadSigningKeys(config),
      createLogger({ service: 'users', level: 'silent' }),
    )
    const passwords = created.passwords
    ctx = {
      ...created,
      passwords: {
        ...passwords,
        verify: (hash, candidate) => {
          checkedHashes.push(hash)
          return passwords.verify(hash, candidate)
        },
      },
    }
  })
  afterAll(async () => {
    await database?.close()
    await testDb?.drop()
  })

  const newEmail = () => `${randomUUID()}@example.com`

  describe('logIn', () => {
    it('when the email is unknown, then a password is still checked and the error is the same', async () => {
      const email = newEmail()
      await registerUser(ctx, { email, password, name: 'Ann' })
      checkedHashes.length = 0
      const wrongPassword = await logIn(ctx, {
        clientAddress: CLIENT,
        email,
        password: 'wrong one',
      }).catch((e: unknown) => e)
      const unknownEmail = await logIn(ctx, {
        clientAddress: CLIENT,
        email: newEmail(),
        password,
      }).catch((e: unknown) => e)
      expect(checkedHashes).toEqual([expect.stringMatching(/^\$argon2id\$/), undefined])
      expect(unknownEmail).toEqual(wrongPassword)
      expect(unknownEmail).toMatchObject({ kind: 'unauthorized' })
    })

    it('when the email is throttled, then the password is not checked at all', async () => {
      const email = newEmail()
      // The clock stands still: on a busy machine the first wait (1 s) could otherwise be over
      // before the sixth attempt comes.
      const frozen = new Date()
      const still = { ...ctx, now: () => frozen }
      for (let attempt = 1; attempt <= 5; attempt++) {
        await logIn(still, { clientAddress: CLIENT, email, password }).catch(() => undefined)
      }
      checkedHashes.length = 0
      await expect(logIn(still, { clientAddress: CLIENT, email, password })).rejects.toMatchObject({
        kind: 'rate_limited',
        details: { retryAfterSeconds: 1 },
      })
      expect(checkedHashes).toEqual([])
    })

    it('when the stored hash is weaker than today, then a good sign-in upgrades it', async () => {
      const email = newEmail()
      const user = await registerUser(ctx, { email, password, name: 'Ann' })
      const weak = await argon2.hash(password, { type: argon2.argon2id, memoryCost: 4096 })
      await ctx.store.users.setPasswordHash(user.id, weak, new Date())
      await logIn(ctx, { clientAddress: CLIENT, email, password })
      const { passwordHash } = (await ctx.store.users.findByEmailKey(email))!
      expect(passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/)
      await expect(logIn(ctx, { clientAddress: CLIENT, email, password })).resolves.toMatchObject({
        tokenType: 'Bearer',
      })
    })
  })

  describe('ensureAdmin', () => {
    it('when the admin does not exist, then it is created with the admin role', async () => {
      const email = newEmail()
      const admin = await ensureAdmin(ctx, { email, password })
      expect(admin).toMatchObject({ email, role: 'admin', name: 'Administrator' })
      await expect(logIn(ctx, { clientAddress: CLIENT, email, password })).resolves.toBeDefined()
    })

    it('when someone registered the admin email first, then start-up fails and their account stays a customer', async () => {
      const email = newEmail()
      const squatter = await registerUser(ctx, { email, password: 'the squatter', name: 'Eve' })
      await expect(ensureAdmin(ctx, { email: email.toUpperCase(), password })).rejects.toThrow(
        AdminEmailTaken,
      )
      expect(await getUser(ctx, squatter.id)).toMatchObject({ role: 'customer' })
      const pair = await logIn(ctx, { clientAddress: CLIENT, email, password: 'the squatter' })
      const accessToken = JSON.parse(
        Buffer.from(pair.accessToken.split('.')[1]!, 'base64url').toString('utf8'),
      ) as { role: string }
      expect(accessToken.role).toBe('customer')
      await expect(logIn(ctx, { clientAddress: CLIENT, email, password })).rejects.toMatchObject({
        kind: 'unauthorized',
      })
    })

    it('when the account is already admin but its password is not ADMIN_PASSWORD, then start-up fails', async () => {
      const email = newEmail()
      await ensureAdmin(ctx, { email, password })
      await expect(ensureAdmin(ctx, { email, password: 'another password' })).rejects.toThrow(
        /ADMIN_EMAIL .* belongs to an account whose password is not ADMIN_PASSWORD/,
      )
    })

    it('when an existing customer account has ADMIN_PASSWORD as its password, then it is promoted', async () => {
      const email = newEmail()
      const customer = await registerUser(ctx, { email, password, name: 'Ann' })
      const admin = await ensureAdmin(ctx, { email, password })
      expect(admin).toMatchObject({ id: customer.id, role: 'admin', name: 'Ann' })
      expect(await ensureAdmin(ctx, { email, password })).toMatchObject({ id: customer.id })
    })

    it('when two replicas ensure the same admin at once, then both end with the one account', async () => {
      const email = newEmail()
      const [a, b] = await Promise.all([
        ensureAdmin(ctx, { email, password }),
        ensureAdmin(ctx, { email, password }),
      ])
      expect(a.id).toBe(b.id)
    })
  })

  describe('forgetStaleRecords', () => {
    it('when sessions expired and throttles went quiet for a day, then they are deleted', async () => {
      const email = newEmail()
      await registerUser(ctx, { email, password, name: 'Ann' })
      const { refreshToken } = await logIn(ctx, { clientAddress: CLIENT, email, password })
      await logIn(ctx, { clientAddress: CLIENT, email: newEmail(), password }).catch(
        () => undefined,
      )

      const muchLater = new Date(Date.now() + FORGET_AFTER_MS + 31 * 24 * 3600 * 1000)
      const forgotten = await forgetStaleRecords({ ...ctx, now: () => muchLater })
      expect(forgotten.sessions).toBeGreaterThanOrEqual(1)
      expect(forgotten.loginThrottles).toBeGreaterThanOrEqual(1)
      expect(await ctx.store.sessions.findRefreshToken(hashRefreshToken(refreshToken))).toBe(
        undefined,
      )
    })
  })
})

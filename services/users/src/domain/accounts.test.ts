import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import argon2 from 'argon2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '@microshop/platform/db/database'
import { migrate } from '@microshop/platform/db/migrate'
import { createLogger } from '@microshop/platform/logger'
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from '@microshop/platform/testing/databases'
import { loadUsersConfig } from '../config.ts'
import type { UsersDatabase } from '../db/tables.ts'
import { createAccounts } from '../service.ts'
import { loadSigningKeys } from '../signing-keys.ts'
import type { Accounts } from './accounts.ts'
import { ensureAdmin } from './ensure-admin.ts'
import { forgetStaleRecords } from './forget-stale-records.ts'
import { getUser } from './get-user.ts'
import { logIn } from './log-in.ts'
import { FORGET_AFTER_MS } from './login-throttle.ts'
import { registerUser } from './register-user.ts'
import { hashRefreshToken } from './tokens.ts'

const migrations = fileURLToPath(new URL('../../migrations', import.meta.url))
const password = 'correct horse battery'

describe.each(databaseKinds)('account use cases on %s', (kind) => {
  let testDb: TestDatabase
  let database: Database<UsersDatabase>
  let accounts: Accounts
  // checkedHashes records each hash the real password check ran against (undefined: no account).
  const checkedHashes: (string | undefined)[] = []

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    database = await openDatabase<UsersDatabase>({ url: testDb.url, dataDir: testDb.dataDir })
    await migrate(database, [{ name: 'users', directory: migrations }])
    const config = loadUsersConfig({ DATA_DIR: 'memory://', LOG_LEVEL: 'silent' })
    const created = await createAccounts(
      database.db,
      config,
      await loadSigningKeys(config),
      createLogger({ service: 'users', level: 'silent' }),
    )
    const passwords = created.passwords
    accounts = {
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
      await registerUser(accounts, { email, password, name: 'Ann' })
      checkedHashes.length = 0
      const wrongPassword = await logIn(accounts, { email, password: 'wrong one' }).catch(
        (e: unknown) => e,
      )
      const unknownEmail = await logIn(accounts, { email: newEmail(), password }).catch(
        (e: unknown) => e,
      )
      expect(checkedHashes).toEqual([expect.stringMatching(/^\$argon2id\$/), undefined])
      expect(unknownEmail).toEqual(wrongPassword)
      expect(unknownEmail).toMatchObject({ kind: 'unauthorized' })
    })

    it('when the email is throttled, then the password is not checked at all', async () => {
      const email = newEmail()
      for (let attempt = 1; attempt <= 5; attempt++) {
        await logIn(accounts, { email, password }).catch(() => undefined)
      }
      checkedHashes.length = 0
      await expect(logIn(accounts, { email, password })).rejects.toMatchObject({
        kind: 'rate_limited',
        details: { retryAfterSeconds: 1 },
      })
      expect(checkedHashes).toEqual([])
    })

    it('when the stored hash is weaker than today, then a good sign-in upgrades it', async () => {
      const email = newEmail()
      const user = await registerUser(accounts, { email, password, name: 'Ann' })
      const weak = await argon2.hash(password, { type: argon2.argon2id, memoryCost: 4096 })
      await accounts.users.setPasswordHash(user.id, weak, new Date())
      await logIn(accounts, { email, password })
      const { passwordHash } = (await accounts.users.findByEmailKey(email))!
      expect(passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/)
      await expect(logIn(accounts, { email, password })).resolves.toMatchObject({
        tokenType: 'Bearer',
      })
    })
  })

  describe('ensureAdmin', () => {
    it('when the admin does not exist, then it is created with the admin role', async () => {
      const email = newEmail()
      const admin = await ensureAdmin(accounts, { email, password })
      expect(admin).toMatchObject({ email, role: 'admin', name: 'Administrator' })
      await expect(logIn(accounts, { email, password })).resolves.toBeDefined()
    })

    it('when the account exists as a customer, then it is promoted and keeps its password', async () => {
      const email = newEmail()
      const customer = await registerUser(accounts, { email, password, name: 'Ann' })
      const admin = await ensureAdmin(accounts, {
        email: email.toUpperCase(),
        password: 'other one',
      })
      expect(admin).toMatchObject({ id: customer.id, role: 'admin', name: 'Ann' })
      expect(await getUser(accounts, customer.id)).toMatchObject({ role: 'admin' })
      await expect(logIn(accounts, { email, password })).resolves.toBeDefined()
    })

    it('when two replicas ensure the same admin at once, then both end with the one account', async () => {
      const email = newEmail()
      const [a, b] = await Promise.all([
        ensureAdmin(accounts, { email, password }),
        ensureAdmin(accounts, { email, password }),
      ])
      expect(a.id).toBe(b.id)
    })
  })

  describe('forgetStaleRecords', () => {
    it('when sessions expired and throttles went quiet for a day, then they are deleted', async () => {
      const email = newEmail()
      await registerUser(accounts, { email, password, name: 'Ann' })
      const { refreshToken } = await logIn(accounts, { email, password })
      await logIn(accounts, { email: newEmail(), password }).catch(() => undefined)

      const muchLater = new Date(Date.now() + FORGET_AFTER_MS + 31 * 24 * 3600 * 1000)
      const forgotten = await forgetStaleRecords({ ...accounts, now: () => muchLater })
      expect(forgotten.sessions).toBeGreaterThanOrEqual(1)
      expect(forgotten.loginThrottles).toBeGreaterThanOrEqual(1)
      expect(await accounts.sessions.findRefreshToken(hashRefreshToken(refreshToken))).toBe(
        undefined,
      )
    })
  })
})

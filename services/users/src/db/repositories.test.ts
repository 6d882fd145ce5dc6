import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '@microshop/platform/db/database'
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from '@microshop/platform/testing/databases'
import { admitLoginAttempt } from '../domain/login-throttle.ts'
import { loginThrottlesRepository } from './login-throttles-repository.ts'
import { sessionsRepository } from './sessions-repository.ts'
import { openUsersDatabase } from '../testing/users-database.ts'
import type { UsersTables } from './tables.ts'
import type { NewAccount } from '../domain/users-context.ts'
import { usersRepository } from './users-repository.ts'

describe.each(databaseKinds)('users repositories on %s', (kind) => {
  let testDb: TestDatabase
  let database: Database<UsersTables>
  let users: ReturnType<typeof usersRepository>
  let sessions: ReturnType<typeof sessionsRepository>
  let throttles: ReturnType<typeof loginThrottlesRepository>

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    database = await openUsersDatabase(testDb)
    users = usersRepository(database.db)
    sessions = sessionsRepository(database.db)
    throttles = loginThrottlesRepository(database.db)
  })
  afterAll(async () => {
    await database?.close()
    await testDb?.drop()
  })

  const now = new Date('2030-01-01T00:00:00.000Z')
  const later = (seconds: number) => new Date(now.getTime() + seconds * 1000)

  function newAccount(overrides: Partial<NewAccount> = {}): NewAccount {
    const emailKey = `${randomUUID()}@example.com`
    return {
      id: randomUUID(),
      email: emailKey.toUpperCase(),
      emailKey,
      name: 'Ann',
      passwordHash: '$argon2id$not-a-real-hash',
      role: 'customer',
      createdAt: now,
      ...overrides,
    }
  }

  async function startedSession(expiresInSeconds = 600) {
    const user = await users.insert(newAccount())
    const session = {
      id: randomUUID(),
      userId: user!.id,
      refreshToken: { hash: randomUUID(), expiresAt: later(expiresInSeconds) },
      now,
    }
    await sessions.start(session)
    return session
  }

  describe('usersRepository', () => {
    it('when an account is stored, then it reads back by id (without hash) and by email key', async () => {
      const account = newAccount()
      const stored = await users.insert(account)
      const user = {
        id: account.id,
        email: account.email,
        name: 'Ann',
        role: 'customer',
        createdAt: now,
      }
      expect(stored).toEqual(user)
      expect(await users.findById(account.id)).toEqual(user)
      expect(await users.findByEmailKey(account.emailKey)).toEqual({
        ...user,
        passwordHash: account.passwordHash,
      })
    })

    it('when the email key is taken, then insert gives undefined and stores nothing', async () => {
      const first = newAccount()
      await users.insert(first)
      const clash = newAccount({ emailKey: first.emailKey })
      expect(await users.insert(clash)).toBeUndefined()
      expect(await users.findById(clash.id)).toBeUndefined()
    })

    it('when the role or password hash changes, then the account keeps the change', async () => {
      const account = newAccount()
      await users.insert(account)
      await users.setRole(account.id, 'admin', later(1))
      await users.setPasswordHash(account.id, '$argon2id$new', later(1))
      expect(await users.findByEmailKey(account.emailKey)).toMatchObject({
        role: 'admin',
        passwordHash: '$argon2id$new',
      })
    })
  })

  describe('sessionsRepository', () => {
    it('when a session starts, then its refresh token is found with the session state', async () => {
      const session = await startedSession()
      expect(await sessions.findRefreshToken(session.refreshToken.hash)).toEqual({
        sessionId: session.id,
        userId: session.userId,
        expiresAt: session.refreshToken.expiresAt,
        usedAt: null,
        sessionRevokedAt: null,
      })
      expect(await sessions.findRefreshToken('unknown')).toBeUndefined()
    })

    it('when a token is rotated, then it is spent and its successor lives in the same session', async () => {
      const session = await startedSession()
      const next = { hash: randomUUID(), expiresAt: later(1200) }
      const rotation = { sessionId: session.id, usedHash: session.refreshToken.hash, next }
      expect(await sessions.rotate({ ...rotation, now: later(5) })).toBe(true)
      expect(await sessions.findRefreshToken(session.refreshToken.hash)).toMatchObject({
        usedAt: later(5),
      })
      expect(await sessions.findRefreshToken(next.hash)).toMatchObject({
        sessionId: session.id,
        usedAt: null,
      })
      const again = { ...rotation, next: { hash: randomUUID(), expiresAt: later(1200) } }
      expect(await sessions.rotate({ ...again, now: later(6) })).toBe(false)
      expect(await sessions.findRefreshToken(again.next.hash)).toBeUndefined()
    })

    it('when rotations of one token race, then exactly one succeeds', async () => {
      const session = await startedSession()
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          sessions.rotate({
            sessionId: session.id,
            usedHash: session.refreshToken.hash,
            next: { hash: randomUUID(), expiresAt: later(1200) },
            now: later(1),
          }),
        ),
      )
      expect(results.filter(Boolean)).toHaveLength(1)
    })

    it('when the session is revoked, then rotation fails and the state says revoked', async () => {
      const session = await startedSession()
      await sessions.revoke(session.id, 'logout', later(1))
      await sessions.revoke(session.id, 'reuse', later(2))
      expect(await sessions.findRefreshToken(session.refreshToken.hash)).toMatchObject({
        sessionRevokedAt: later(1),
      })
      const rotated = await sessions.rotate({
        sessionId: session.id,
        usedHash: session.refreshToken.hash,
        next: { hash: randomUUID(), expiresAt: later(1200) },
        now: later(3),
      })
      expect(rotated).toBe(false)
    })

    it('when pruning, then expired sessions go with their tokens and live ones stay', async () => {
      const expired = await startedSession(10)
      const live = await startedSession(10_000)
      expect(await sessions.pruneExpired(later(11))).toBeGreaterThanOrEqual(1)
      expect(await sessions.findRefreshToken(expired.refreshToken.hash)).toBeUndefined()
      expect(await sessions.findRefreshToken(live.refreshToken.hash)).toBeDefined()
    })
  })

  describe('loginThrottlesRepository', () => {
    const settings = {
      freeAttempts: 3,
      baseDelaySeconds: 10,
      maxDelaySeconds: 60,
      emailFailuresUnderAttack: 100,
    }
    const keyOf = (clientAddress = '192.0.2.1') => ({
      emailKey: `${randomUUID()}@example.com`,
      clientAddress,
    })

    it('when an email is new, then it starts from no attempts', async () => {
      const key = keyOf()
      const seen: number[] = []
      await throttles.update(key, now, (current) => {
        seen.push(current.attempts)
        return admitLoginAttempt(settings, current, now)
      })
      expect(seen).toEqual([0])
    })

    it('when attempts for one email come at once, then they count one by one', async () => {
      const key = keyOf()
      const decisions = await Promise.all(
        Array.from({ length: 8 }, () =>
          throttles.update(key, now, (current) => admitLoginAttempt(settings, current, now)),
        ),
      )
      expect(decisions.filter((decision) => decision.admitted)).toHaveLength(3)
      expect(decisions.map((decision) => decision.next.attempts).sort()).toEqual([
        1, 2, 3, 3, 3, 3, 3, 3,
      ])
    })

    it('when one address is counted, then another address of the same email starts from none', async () => {
      const key = keyOf('192.0.2.1')
      const other = { ...key, clientAddress: '2001:db8::1' }
      await throttles.update(key, now, (current) => admitLoginAttempt(settings, current, now))
      const seen = await throttles.update(other, now, (current) => ({ next: current }))
      expect(seen.next.attempts).toBe(0)
    })

    it('when failures are counted, then they add up per email until a quiet day starts them over', async () => {
      const { emailKey } = keyOf()
      const dayBefore = (at: Date) => new Date(at.getTime() - 86_400_000)
      for (const at of [now, later(1), later(2)]) {
        await throttles.countFailure(emailKey, at, dayBefore(at))
      }
      expect(await throttles.failuresSince(emailKey, dayBefore(later(2)))).toBe(3)
      const nextWeek = later(7 * 86_400)
      expect(await throttles.failuresSince(emailKey, dayBefore(nextWeek))).toBe(0)
      await throttles.countFailure(emailKey, nextWeek, dayBefore(nextWeek))
      expect(await throttles.failuresSince(emailKey, dayBefore(nextWeek))).toBe(1)
    })

    it('when cleared or stale, then the throttle is gone', async () => {
      const cleared = keyOf()
      const stale = keyOf()
      const locked = keyOf()
      const seenBy = async (key: typeof cleared, at: Date) =>
        throttles.update(key, at, (current) => ({ next: current, attempts: current.attempts }))
      for (const key of [cleared, stale]) {
        await throttles.update(key, now, (current) => admitLoginAttempt(settings, current, now))
      }
      await throttles.update(locked, now, () => ({
        next: { attempts: 9, lockedUntil: later(3600), lastAttemptAt: now },
      }))
      await throttles.countFailure(stale.emailKey, now, now)
      await throttles.clear(cleared)
      expect(await throttles.pruneStale(later(60))).toBeGreaterThanOrEqual(2)
      expect((await seenBy(cleared, later(61))).attempts).toBe(0)
      expect((await seenBy(stale, later(61))).attempts).toBe(0)
      expect((await seenBy(locked, later(61))).attempts).toBe(9)
      expect(await throttles.failuresSince(stale.emailKey, now)).toBe(0)
    })
  })
})

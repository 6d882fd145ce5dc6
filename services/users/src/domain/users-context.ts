import type { Store } from '@microshop/platform/db/store'
import type { Logger } from '@microshop/platform/logger'
import type { LoginThrottle, LoginThrottleKey, LoginThrottleSettings } from './login-throttle.ts'
import type { Passwords } from './passwords.ts'
import type { RefreshTokenRecord, TokenIssuer } from './tokens.ts'
import type { Account, Role, User } from './user.ts'

/** NewAccount is an account as it is first stored. */
export interface NewAccount {
  id: string
  email: string
  emailKey: string
  name: string
  passwordHash: string
  role: Role
  createdAt: Date
}

/** RefreshTokenState is a stored refresh token with the state of its session. */
export interface RefreshTokenState {
  sessionId: string
  userId: string
  expiresAt: Date
  usedAt: Date | null
  sessionRevokedAt: Date | null
}

export type RevocationReason = 'logout' | 'reuse'

/** UsersRepositories are the accounts tables as the use cases need them (db/ implements them). */
export interface UsersRepositories {
  /** users stores accounts; emails are looked up by their normalized key. */
  users: {
    /** insert adds an account, or gives undefined when its email is taken. */
    insert(account: NewAccount): Promise<User | undefined>
    findById(id: string): Promise<User | undefined>
    findByEmailKey(emailKey: string): Promise<Account | undefined>
    setRole(id: string, role: Role, now: Date): Promise<void>
    setPasswordHash(id: string, passwordHash: string, now: Date): Promise<void>
  }
  /** sessions stores sessions (refresh token families) and their tokens' hashes. */
  sessions: {
    /** start opens a session with its first refresh token, atomically. */
    start(session: {
      id: string
      userId: string
      refreshToken: RefreshTokenRecord
      now: Date
    }): Promise<void>
    findRefreshToken(hash: string): Promise<RefreshTokenState | undefined>
    /**
     * rotate marks a token used and adds its successor to the same live session, atomically. It
     * gives false, changing nothing, when the token was already used or the session revoked: the
     * compare-and-set that makes two concurrent refreshes with one token yield one new token.
     */
    rotate(rotation: {
      sessionId: string
      usedHash: string
      next: RefreshTokenRecord
      now: Date
    }): Promise<boolean>
    /** revoke ends a session and so every refresh token of it; revoking twice keeps the first reason. */
    revoke(sessionId: string, reason: RevocationReason, now: Date): Promise<void>
    /** pruneExpired deletes sessions whose newest token has expired; their tokens go with them. */
    pruneExpired(now: Date): Promise<number>
  }
  /**
   * loginThrottles keeps each normalized email's sign-in attempts per client address, and each
   * email's failures from all addresses together, shared by all replicas.
   */
  loginThrottles: {
    /**
     * update runs `decide` on the throttle of an email from one address under a row lock and
     * stores the state it returns, so that concurrent attempts on any replica are counted one
     * after the other. A key seen for the first time starts with no attempts.
     */
    update<Decision extends { next: LoginThrottle }>(
      key: LoginThrottleKey,
      now: Date,
      decide: (current: LoginThrottle) => Decision,
    ): Promise<Decision>
    clear(key: LoginThrottleKey): Promise<void>
    /**
     * countFailure adds a failed sign-in to the email's count from all addresses; the count
     * starts again from one when its last failure was before `since`.
     */
    countFailure(emailKey: string, now: Date, since: Date): Promise<void>
    /** failuresSince is the email's count from all addresses, 0 unless it failed after `since`. */
    failuresSince(emailKey: string, since: Date): Promise<number>
    /** pruneStale deletes throttles whose last attempt and wait both ended, and counts whose last failure was, before `before`. */
    pruneStale(before: Date): Promise<number>
  }
}

/** UsersSettings are the accounts' knobs, from config.ts. */
export interface UsersSettings {
  loginThrottle: LoginThrottleSettings
}

/**
 * UsersContext is what the account use cases work with: the service's store, its password
 * hashing and token signing, the settings, a logger for security events, and the clock.
 */
export interface UsersContext {
  store: Store<UsersRepositories>
  passwords: Passwords
  tokens: TokenIssuer
  settings: UsersSettings
  logger: Logger
  now(): Date
}

import type { Role } from '../domain/user.ts'

// Table types mirror migrations/*.sql in camelCase (Kysely's CamelCasePlugin maps the names);
// the repository tests on both database kinds catch any drift.

export interface UsersTable {
  id: string
  email: string
  emailKey: string
  name: string
  passwordHash: string
  role: Role
  createdAt: Date
  updatedAt: Date
}

export interface SessionsTable {
  id: string
  userId: string
  createdAt: Date
  expiresAt: Date
  revokedAt: Date | null
  revokedReason: 'logout' | 'reuse' | null
}

export interface RefreshTokensTable {
  tokenHash: string
  sessionId: string
  issuedAt: Date
  expiresAt: Date
  usedAt: Date | null
}

export interface LoginThrottlesTable {
  emailKey: string
  clientAddress: string
  attempts: number
  lockedUntil: Date | null
  lastAttemptAt: Date
}

export interface LoginFailuresTable {
  emailKey: string
  failures: number
  lastFailureAt: Date
}

export interface UsersTables {
  users: UsersTable
  sessions: SessionsTable
  refreshTokens: RefreshTokensTable
  loginThrottles: LoginThrottlesTable
  loginFailures: LoginFailuresTable
}

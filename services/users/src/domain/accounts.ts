import type { Logger } from '@microshop/platform/logger'
import type { LoginThrottlesRepository } from '../db/login-throttles-repository.ts'
import type { SessionsRepository } from '../db/sessions-repository.ts'
import type { UsersRepository } from '../db/users-repository.ts'
import type { LoginThrottleSettings } from './login-throttle.ts'
import type { Passwords } from './passwords.ts'
import type { TokenIssuer } from './tokens.ts'

/**
 * Accounts is what the account use cases work with: the service's stores, its password hashing
 * and token signing, the throttle settings, a logger for security events, and the clock.
 */
export interface Accounts {
  users: UsersRepository
  sessions: SessionsRepository
  loginThrottles: LoginThrottlesRepository
  passwords: Passwords
  tokens: TokenIssuer
  loginThrottle: LoginThrottleSettings
  logger: Logger
  now(): Date
}

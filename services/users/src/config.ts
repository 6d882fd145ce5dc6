import Type, { type Static } from 'typebox'
import { tokenEnv } from '@microshop/platform/auth/token-settings'
import { ConfigError, loadEnv, serviceEnv, type EnvSource } from '@microshop/platform/config'

// users signs the tokens with its own keys: it needs no JWKS_URL.
const { JWT_ISSUER, JWT_AUDIENCE } = tokenEnv()

const usersEnv = Type.Object({
  ...serviceEnv(8081),
  JWT_ISSUER,
  JWT_AUDIENCE,
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ default: 900, minimum: 30, maximum: 86_400 }),
  /** REFRESH_TOKEN_TTL_SECONDS is how long a session may sit unused; each refresh starts it anew. */
  REFRESH_TOKEN_TTL_SECONDS: Type.Integer({ default: 2_592_000, minimum: 60 }),
  /** JWT_SIGNING_KEYS is a JWK Set of Ed25519 keys (see docs/decisions/0002); unset with its _FILE: generated. */
  JWT_SIGNING_KEYS: Type.Optional(Type.String({ minLength: 1 })),
  JWT_SIGNING_KEYS_FILE: Type.Optional(Type.String({ minLength: 1 })),
  /** JWT_ACTIVE_KEY_ID picks the key that signs; the others are only published. Default: the first private key. */
  JWT_ACTIVE_KEY_ID: Type.Optional(Type.String({ minLength: 1 })),
  ADMIN_EMAIL: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8, maxLength: 128 })),
  /** LOGIN_THROTTLE_FREE_ATTEMPTS is how many failed sign-ins an email gets from one address before waits begin. */
  LOGIN_THROTTLE_FREE_ATTEMPTS: Type.Integer({ default: 5, minimum: 1 }),
  /**
   * LOGIN_THROTTLE_EMAIL_FAILURES is how many failed sign-ins an email may have from all
   * addresses together (in a day) before each address gets only one free attempt.
   */
  LOGIN_THROTTLE_EMAIL_FAILURES: Type.Integer({ default: 20, minimum: 1 }),
  LOGIN_THROTTLE_BASE_DELAY_SECONDS: Type.Integer({ default: 1, minimum: 1 }),
  LOGIN_THROTTLE_MAX_DELAY_SECONDS: Type.Integer({ default: 900, minimum: 1 }),
})

export type UsersConfig = Static<typeof usersEnv>

/** loadUsersConfig parses the users service's settings once at boot, listing every problem. */
export function loadUsersConfig(source: EnvSource = process.env): UsersConfig {
  const config = loadEnv(usersEnv, source)
  const problems: string[] = []
  if ((config.ADMIN_EMAIL === undefined) !== (config.ADMIN_PASSWORD === undefined)) {
    problems.push('ADMIN_EMAIL, ADMIN_PASSWORD: set both or neither')
  }
  if (config.JWT_SIGNING_KEYS !== undefined && config.JWT_SIGNING_KEYS_FILE !== undefined) {
    problems.push('JWT_SIGNING_KEYS, JWT_SIGNING_KEYS_FILE: set one or the other')
  }
  if (
    config.JWT_ACTIVE_KEY_ID !== undefined &&
    config.JWT_SIGNING_KEYS === undefined &&
    config.JWT_SIGNING_KEYS_FILE === undefined
  ) {
    problems.push('JWT_ACTIVE_KEY_ID: needs JWT_SIGNING_KEYS or JWT_SIGNING_KEYS_FILE')
  }
  if (config.LOGIN_THROTTLE_MAX_DELAY_SECONDS < config.LOGIN_THROTTLE_BASE_DELAY_SECONDS) {
    problems.push(
      'LOGIN_THROTTLE_MAX_DELAY_SECONDS: must be at least LOGIN_THROTTLE_BASE_DELAY_SECONDS',
    )
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return config
}

import { describe, expect, it } from 'vitest'
import { ConfigError } from '@microshop/platform/config'
import { loadUsersConfig } from './config.ts'

function problemsOf(source: Record<string, string>): string[] {
  try {
    loadUsersConfig(source)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  return []
}

describe('loadUsersConfig', () => {
  it('when nothing is set, then the defaults run an embedded service on 8081', () => {
    expect(loadUsersConfig({})).toMatchObject({
      PORT: 8081,
      JWT_ISSUER: 'microshop',
      JWT_AUDIENCE: 'microshop',
      ACCESS_TOKEN_TTL_SECONDS: 900,
      REFRESH_TOKEN_TTL_SECONDS: 2_592_000,
      LOGIN_THROTTLE_FREE_ATTEMPTS: 5,
      LOGIN_THROTTLE_BASE_DELAY_SECONDS: 1,
      LOGIN_THROTTLE_MAX_DELAY_SECONDS: 900,
    })
  })

  it('when only one of the admin settings is set, then it refuses to start', () => {
    expect(problemsOf({ ADMIN_EMAIL: 'admin@example.com' })).toEqual([
      'ADMIN_EMAIL, ADMIN_PASSWORD: set both or neither',
    ])
    expect(problemsOf({ ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'long enough' })).toEqual(
      [],
    )
  })

  it('when the admin settings break the account rules, then each is named', () => {
    const problems = problemsOf({ ADMIN_EMAIL: 'admin', ADMIN_PASSWORD: 'short' }).join('\n')
    expect(problems).toContain('ADMIN_EMAIL')
    expect(problems).toContain('ADMIN_PASSWORD')
  })

  it('when key settings contradict each other, then every contradiction is listed', () => {
    expect(
      problemsOf({
        JWT_SIGNING_KEYS: '{"keys":[]}',
        JWT_SIGNING_KEYS_FILE: '/run/secrets/keys.json',
        LOGIN_THROTTLE_BASE_DELAY_SECONDS: '60',
        LOGIN_THROTTLE_MAX_DELAY_SECONDS: '30',
      }),
    ).toEqual([
      'JWT_SIGNING_KEYS, JWT_SIGNING_KEYS_FILE: set one or the other',
      'LOGIN_THROTTLE_MAX_DELAY_SECONDS: must be at least LOGIN_THROTTLE_BASE_DELAY_SECONDS',
    ])
    expect(problemsOf({ JWT_ACTIVE_KEY_ID: 'k1' })).toEqual([
      'JWT_ACTIVE_KEY_ID: needs JWT_SIGNING_KEYS or JWT_SIGNING_KEYS_FILE',
    ])
  })
})

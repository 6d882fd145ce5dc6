import Type from 'typebox'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadEnv, serviceEnv } from './config.ts'

const schema = Type.Object({
  ...serviceEnv(8081),
  ISSUER: Type.String({ minLength: 1 }),
  FLAG: Type.Boolean({ default: false }),
})

describe('loadEnv', () => {
  it('when settings are valid, then strings become numbers and booleans and defaults fill in', () => {
    const env = loadEnv(schema, { ISSUER: 'microshop', PORT: '9000', FLAG: 'true', LOG_LEVEL: '' })
    expect(env).toMatchObject({ ISSUER: 'microshop', PORT: 9000, FLAG: true, LOG_LEVEL: 'info' })
    expect(env.DATABASE_URL).toBeUndefined()
  })

  it('when several settings are missing or bad, then one error lists them all', () => {
    let error: unknown
    try {
      loadEnv(schema, { PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    const problems = (error as ConfigError).problems.join('\n')
    expect(problems).toContain('ISSUER')
    expect(problems).toContain('PORT')
    expect(problems).toContain('DATABASE_URL')
    expect(problems).toContain('LOG_LEVEL')
  })
})

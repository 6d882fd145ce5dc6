import { describe, expect, it } from 'vitest'
import { checkNewAccount, normalizeEmail } from './user.ts'

describe('normalizeEmail', () => {
  it('when addresses differ only in case, spaces or Unicode composition, then they are one', () => {
    expect(normalizeEmail('  Ann@Example.COM ')).toBe('ann@example.com')
    expect(normalizeEmail('Ze\u0301@example.com')).toBe(normalizeEmail('z\u00e9@example.com'))
  })
})

describe('checkNewAccount', () => {
  const good = { email: ' Ann@Example.com ', password: 'eight ch', name: ' Ann ' }

  it('when the details are good, then it gives them trimmed with the email key', () => {
    expect(checkNewAccount(good)).toEqual({
      email: 'Ann@Example.com',
      emailKey: 'ann@example.com',
      name: 'Ann',
      password: 'eight ch',
    })
  })

  it('when the password is outside 8..128 characters, then it is invalid', () => {
    for (const password of ['seven c', 'x'.repeat(129)]) {
      expect(() => checkNewAccount({ ...good, password })).toThrow(
        expect.objectContaining({
          kind: 'invalid',
          details: { errors: [expect.objectContaining({ pointer: '/body/password' })] },
        }),
      )
    }
    expect(() => checkNewAccount({ ...good, password: 'x'.repeat(128) })).not.toThrow()
  })

  it('when a character lies outside the basic plane, then it still counts as one', () => {
    expect(() => checkNewAccount({ ...good, password: '🔑'.repeat(8) })).not.toThrow()
    expect(() => checkNewAccount({ ...good, password: '🔑'.repeat(7) })).toThrow()
  })

  it('when several details are bad, then every field is named', () => {
    expect(() => checkNewAccount({ email: 'ann at example', password: '', name: '   ' })).toThrow(
      expect.objectContaining({
        details: {
          errors: [
            expect.objectContaining({ pointer: '/body/email' }),
            expect.objectContaining({ pointer: '/body/password' }),
            expect.objectContaining({ pointer: '/body/name' }),
          ],
        },
      }),
    )
  })
})

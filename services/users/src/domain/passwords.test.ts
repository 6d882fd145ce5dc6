import argon2 from 'argon2'
import { beforeAll, describe, expect, it } from 'vitest'
import { createPasswords, type Passwords } from './passwords.ts'

describe('createPasswords', () => {
  let passwords: Passwords
  beforeAll(async () => {
    passwords = await createPasswords()
  })

  it('hashes with argon2id at the OWASP parameters and a salt per hash', async () => {
    const [one, two] = await Promise.all([
      passwords.hash('correct horse'),
      passwords.hash('correct horse'),
    ])
    expect(one).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/)
    expect(one).not.toBe(two)
  })

  it('when the password matches, then verify is true; otherwise false', async () => {
    const hash = await passwords.hash('correct horse')
    expect(await passwords.verify(hash, 'correct horse')).toBe(true)
    expect(await passwords.verify(hash, 'correct horsE')).toBe(false)
  })

  it('when there is no hash, then verify still does the work and is false', async () => {
    const started = performance.now()
    expect(await passwords.verify(undefined, 'a password no account has')).toBe(false)
    const withoutHashMs = performance.now() - started
    const hash = await passwords.hash('x')
    const startedReal = performance.now()
    await passwords.verify(hash, 'y')
    const withHashMs = performance.now() - startedReal
    expect(withoutHashMs).toBeGreaterThan(withHashMs / 4)
  })

  it('when the same password is typed in another Unicode form, then it matches', async () => {
    const hash = await passwords.hash('caf\u00e9 au lait')
    expect(await passwords.verify(hash, 'cafe\u0301 au lait')).toBe(true)
  })

  it('when a hash was made with weaker parameters, then it needs rehashing', async () => {
    const weak = await argon2.hash('correct horse', {
      type: argon2.argon2id,
      memoryCost: 4096,
      timeCost: 1,
      parallelism: 1,
    })
    expect(passwords.needsRehash(weak)).toBe(true)
    expect(passwords.needsRehash(await passwords.hash('correct horse'))).toBe(false)
  })
})

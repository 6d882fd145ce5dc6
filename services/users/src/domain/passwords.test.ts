import argon2 from 'argon2'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createPasswords, PASSWORD_HASH_OPTIONS, unmatchableHash } from './passwords.ts'

describe('createPasswords', () => {
  const passwords = createPasswords()
  afterEach(() => {
    vi.restoreAllMocks()
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

  it('when there is no hash, then verify checks against one of the same parameters and is false', async () => {
    const verify = vi.spyOn(argon2, 'verify')
    expect(await passwords.verify(undefined, 'a password no account has')).toBe(false)
    expect(verify).toHaveBeenCalledOnce()
    const [checkedAgainst] = verify.mock.calls[0] ?? []
    expect(argon2.needsRehash(String(checkedAgainst), PASSWORD_HASH_OPTIONS)).toBe(false)
  })

  it('an unmatchable hash is read by argon2 at the OWASP parameters and matches no password', async () => {
    const hash = unmatchableHash()
    expect(hash).toMatch(
      /^\$argon2id\$v=19\$m=19456,p=1,t=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/,
    )
    expect(argon2.needsRehash(hash, PASSWORD_HASH_OPTIONS)).toBe(false)
    expect(await argon2.verify(hash, '')).toBe(false)
    expect(await argon2.verify(hash, 'a password no account has')).toBe(false)
    expect(unmatchableHash()).not.toBe(hash)
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

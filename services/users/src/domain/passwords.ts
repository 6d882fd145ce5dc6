import { randomBytes } from 'node:crypto'
import argon2 from 'argon2'

/**
 * PASSWORD_HASH_OPTIONS are OWASP's argon2id parameters (19 MiB, 2 passes, 1 lane): about 30 ms
 * a hash on one core. Hashes made with other parameters are upgraded at the next sign-in.
 */
export const PASSWORD_HASH_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const

/** Passwords hashes and checks passwords; nothing else sees a password in the clear. */
export interface Passwords {
  hash(password: string): Promise<string>
  /**
   * verify checks a password against a stored hash. Without a hash (no such account) it checks
   * against a dummy one, so that a wrong email costs as much time as a wrong password.
   */
  verify(hash: string | undefined, password: string): Promise<boolean>
  needsRehash(hash: string): boolean
}

// prepare applies NIST SP 800-63B's normalization, so a password typed on another keyboard or
// system (composed vs decomposed accents) still matches.
const prepare = (password: string) => password.normalize('NFKC')

export function createPasswords(): Passwords {
  const hash = (password: string) => argon2.hash(prepare(password), PASSWORD_HASH_OPTIONS)
  const dummyHash = unmatchableHash()
  return {
    hash,
    async verify(storedHash, password) {
      const matches = await argon2.verify(storedHash ?? dummyHash, prepare(password))
      return storedHash !== undefined && matches
    },
    needsRehash: (storedHash) => argon2.needsRehash(storedHash, PASSWORD_HASH_OPTIONS),
  }
}

/**
 * unmatchableHash is a hash as argon2 encodes one, with the parameters of PASSWORD_HASH_OPTIONS
 * and a random salt and digest: checking a password against it costs what checking against a
 * real hash costs, and no password matches it. Made, not computed: hashing at start-up would
 * cost every start ~30 ms of CPU and leave argon2's 19 MiB of working memory in the process.
 */
export function unmatchableHash(): string {
  const { memoryCost, timeCost, parallelism } = PASSWORD_HASH_OPTIONS
  const base64 = (bytes: number) => randomBytes(bytes).toString('base64').replace(/=+$/, '')
  return `$argon2id$v=19$m=${memoryCost},p=${parallelism},t=${timeCost}$${base64(16)}$${base64(32)}`
}

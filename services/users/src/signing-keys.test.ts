import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { JWK } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError } from '@microshop/platform/config'
import { generateSigningKey, loadSigningKeys, parseSigningKeys } from './signing-keys.ts'

const publicPart = ({ d: _d, ...key }: JWK): JWK => key

async function problemsOf(load: Promise<unknown>): Promise<string[]> {
  const error: unknown = await load.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(error instanceof ConfigError))
    throw new Error(`expected a ConfigError, got ${String(error)}`)
  return error.problems
}

describe('loadSigningKeys', () => {
  const folders: string[] = []
  const newFolder = async () => {
    const folder = await mkdtemp(join(tmpdir(), 'users-keys-'))
    folders.push(folder)
    return folder
  }
  afterAll(() => Promise.all(folders.map((folder) => rm(folder, { recursive: true }))))

  it('when DATA_DIR is memory://, then a key is generated and only its public half published', async () => {
    const keys = await loadSigningKeys({ DATA_DIR: 'memory://' })
    const { x } = createPublicKey(keys.active.privateKey).export({ format: 'jwk' })
    expect(keys.jwks.keys).toEqual([
      { kty: 'OKP', crv: 'Ed25519', x, kid: keys.active.kid, alg: 'EdDSA', use: 'sig' },
    ])
  })

  it('when no key is configured, then one is generated once into the data folder, private to us', async () => {
    const dataDir = await newFolder()
    const first = await loadSigningKeys({ DATA_DIR: dataDir })
    const path = join(dataDir, 'users', 'signing-keys.json')
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const again = await loadSigningKeys({ DATA_DIR: dataDir })
    expect(again.active.kid).toBe(first.active.kid)
    expect(again.jwks).toEqual(first.jwks)
    const stored = JSON.parse(await readFile(path, 'utf8')) as { keys: JWK[] }
    expect(stored.keys[0]?.kid).toBe(first.active.kid)
    expect(stored.keys[0]?.d).toMatch(/^[\w-]{43}$/)
  })

  it('when a set names its active key, then that key signs and every key is published', async () => {
    const [a, b, retired] = await Promise.all([
      generateSigningKey(),
      generateSigningKey(),
      generateSigningKey(),
    ])
    const set = JSON.stringify({ keys: [publicPart(retired), a, b] })
    const keys = await loadSigningKeys({
      DATA_DIR: 'memory://',
      JWT_SIGNING_KEYS: set,
      JWT_ACTIVE_KEY_ID: b.kid,
    })
    expect(keys.active.kid).toBe(b.kid)
    expect(keys.jwks.keys.map((key) => key.kid)).toEqual([retired.kid, a.kid, b.kid])
    expect(keys.jwks.keys.every((key) => !('d' in key))).toBe(true)

    const byDefault = await parseSigningKeys(set, 'test')
    expect(byDefault.active.kid).toBe(a.kid)
  })

  // RFC8037_KEY is RFC 8037's example Ed25519 key (appendix A.1), with its thumbprint (A.3): a key
  // file written elsewhere, by another Node version or another tool, must read the same here.
  const RFC8037_KEY = {
    kty: 'OKP',
    crv: 'Ed25519',
    d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
    x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
  }
  const RFC8037_THUMBPRINT = 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k'

  it('when a key file was written elsewhere (RFC 8037 example key), then it signs and its public half is published', async () => {
    const path = join(await newFolder(), 'keys.json')
    await writeFile(path, JSON.stringify({ keys: [{ ...RFC8037_KEY, alg: 'EdDSA', use: 'sig' }] }))
    const keys = await loadSigningKeys({ DATA_DIR: 'memory://', JWT_SIGNING_KEYS_FILE: path })
    expect(keys.active.kid).toBe(RFC8037_THUMBPRINT)
    expect(keys.jwks.keys).toEqual([
      {
        kty: 'OKP',
        crv: 'Ed25519',
        x: RFC8037_KEY.x,
        kid: RFC8037_THUMBPRINT,
        alg: 'EdDSA',
        use: 'sig',
      },
    ])
    const message = Buffer.from('microshop')
    const signature = sign(null, message, keys.active.privateKey)
    const { kty, crv, x } = RFC8037_KEY
    const published = createPublicKey({ key: { kty, crv, x }, format: 'jwk' })
    expect(verify(null, message, published, signature)).toBe(true)
  })

  it('when a private key comes without its "x", then "x" is derived from "d"', async () => {
    const withoutX = { ...RFC8037_KEY, x: undefined }
    const keys = await parseSigningKeys(JSON.stringify({ keys: [withoutX] }), 'test')
    expect(keys.jwks.keys[0]?.x).toBe(RFC8037_KEY.x)
    expect(keys.active.kid).toBe(RFC8037_THUMBPRINT)
  })

  it('when "d" is not a 32-byte base64url seed, then the key is refused', async () => {
    const shortSeed = { ...RFC8037_KEY, d: RFC8037_KEY.d.slice(0, 40) }
    const notBase64url = { ...RFC8037_KEY, d: `${RFC8037_KEY.d.slice(0, 42)}+` }
    expect(
      await problemsOf(
        parseSigningKeys(JSON.stringify({ keys: [shortSeed, notBase64url] }), 'test'),
      ),
    ).toEqual([
      'test: key 0: is not a valid Ed25519 key',
      'test: key 1: is not a valid Ed25519 key',
      'test: no key has the private part ("d") to sign with',
    ])
  })

  it('when the set comes from a file, then it is read from there', async () => {
    const key = await generateSigningKey()
    const path = join(await newFolder(), 'keys.json')
    await writeFile(path, JSON.stringify({ keys: [key] }))
    const keys = await loadSigningKeys({ DATA_DIR: 'memory://', JWT_SIGNING_KEYS_FILE: path })
    expect(keys.active.kid).toBe(key.kid)
    expect(
      await problemsOf(
        loadSigningKeys({ DATA_DIR: 'memory://', JWT_SIGNING_KEYS_FILE: `${path}.missing` }),
      ),
    ).toEqual([`JWT_SIGNING_KEYS_FILE: cannot read ${path}.missing`])
  })

  it('when a key has no kid, then its thumbprint names it', async () => {
    const { kid, ...key } = await generateSigningKey()
    const keys = await parseSigningKeys(JSON.stringify({ keys: [key] }), 'test')
    expect(keys.active.kid).toBe(kid)
  })

  it('when the set is not usable, then every problem is listed', async () => {
    const good = await generateSigningKey()
    const other = await generateSigningKey()
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      format: 'jwk',
    })
    const problems = await problemsOf(
      parseSigningKeys(
        JSON.stringify({
          keys: [
            good,
            rsa,
            { ...other, x: good.x },
            { ...other, kid: good.kid },
            { ...good, d: 'x' },
          ],
        }),
        'JWT_SIGNING_KEYS',
      ),
    )
    expect(problems).toEqual([
      'JWT_SIGNING_KEYS: key 1: must be an Ed25519 key (kty "OKP", crv "Ed25519")',
      'JWT_SIGNING_KEYS: key 2: "x" is not the public half of "d"',
      `JWT_SIGNING_KEYS: key 3: kid ${good.kid} is used twice`,
      'JWT_SIGNING_KEYS: key 4: is not a valid Ed25519 key',
    ])
    expect(await problemsOf(parseSigningKeys('not json', 'JWT_SIGNING_KEYS'))).toEqual([
      'JWT_SIGNING_KEYS: must be a JWK Set, {"keys": [...]}',
    ])
  })

  it('when the active key is unknown or has no private half, then it refuses', async () => {
    const key = await generateSigningKey()
    const set = JSON.stringify({ keys: [publicPart(key)] })
    expect(await problemsOf(parseSigningKeys(set, 'test'))).toEqual([
      'test: no key has the private part ("d") to sign with',
    ])
    expect(await problemsOf(parseSigningKeys(set, 'test', key.kid))).toEqual([
      `JWT_ACTIVE_KEY_ID: key ${key.kid} has no private part ("d") to sign with`,
    ])
    expect(await problemsOf(parseSigningKeys(set, 'test', 'nope'))).toEqual([
      'JWT_ACTIVE_KEY_ID: test has no key nope',
    ])
  })
})

import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { calculateJwkThumbprint, type JSONWebKeySet, type JWK } from 'jose'
import { ConfigError } from '@microshop/platform/config'
import type { UsersConfig } from './config.ts'
import type { SigningKey } from './domain/tokens.ts'

/** PublicSigningJwk is one published key: what `/auth/jwks.json` lists and verifiers use. */
export interface PublicSigningJwk {
  kty: 'OKP'
  crv: 'Ed25519'
  x: string
  kid: string
  alg: 'EdDSA'
  use: 'sig'
}

/** SigningKeys are the active key that signs new access tokens and every key verifiers should accept. */
export interface SigningKeys {
  active: SigningKey
  jwks: JSONWebKeySet & { keys: PublicSigningJwk[] }
}

/** SigningKeySettings are the users settings that say where the keys come from. */
export interface SigningKeySettings {
  JWT_SIGNING_KEYS?: UsersConfig['JWT_SIGNING_KEYS'] | undefined
  JWT_SIGNING_KEYS_FILE?: UsersConfig['JWT_SIGNING_KEYS_FILE'] | undefined
  JWT_ACTIVE_KEY_ID?: UsersConfig['JWT_ACTIVE_KEY_ID'] | undefined
  DATA_DIR: UsersConfig['DATA_DIR']
}

/**
 * loadSigningKeys finds the service's signing keys: a JWK Set from JWT_SIGNING_KEYS or the file
 * JWT_SIGNING_KEYS_FILE names (production), otherwise one generated on first start and kept at
 * `<DATA_DIR>/users/signing-keys.json` so tokens outlive restarts (embedded mode), or held in
 * memory when DATA_DIR is `memory://` (tests).
 */
export async function loadSigningKeys(settings: SigningKeySettings): Promise<SigningKeys> {
  if (settings.JWT_SIGNING_KEYS !== undefined) {
    return parseSigningKeys(
      settings.JWT_SIGNING_KEYS,
      'JWT_SIGNING_KEYS',
      settings.JWT_ACTIVE_KEY_ID,
    )
  }
  if (settings.JWT_SIGNING_KEYS_FILE !== undefined) {
    const text = await readFile(settings.JWT_SIGNING_KEYS_FILE, 'utf8').catch(() => {
      throw new ConfigError([
        `JWT_SIGNING_KEYS_FILE: cannot read ${settings.JWT_SIGNING_KEYS_FILE}`,
      ])
    })
    return parseSigningKeys(text, 'JWT_SIGNING_KEYS_FILE', settings.JWT_ACTIVE_KEY_ID)
  }
  if (settings.DATA_DIR.startsWith('memory://')) {
    return parseSigningKeys(JSON.stringify({ keys: [await generateSigningKey()] }), 'generated')
  }
  const path = join(settings.DATA_DIR, 'users', 'signing-keys.json')
  return parseSigningKeys(await readOrCreateKeyFile(path), path)
}

/** generateSigningKey makes a new Ed25519 private JWK, named by its RFC 7638 thumbprint. */
export async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = generateKeyPairSync('ed25519')
  const jwk = privateKey.export({ format: 'jwk' }) as JWK
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'EdDSA', use: 'sig' }
}

// readOrCreateKeyFile writes a new key file whole or not at all (a temporary file, then a hard
// link that fails if another process got there first), readable by this user only.
async function readOrCreateKeyFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const text = `${JSON.stringify({ keys: [await generateSigningKey()] }, null, 2)}\n`
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, text, { mode: 0o600 })
  try {
    await link(temporary, path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  } finally {
    await unlink(temporary)
  }
  return readFile(path, 'utf8')
}

interface ParsedKey {
  kid: string
  publicJwk: PublicSigningJwk
  privateKey: KeyObject | undefined
}

/**
 * parseSigningKeys reads a JWK Set of Ed25519 keys. Keys with a private part may sign; keys
 * without one are only published (a retired key, kept until the tokens it signed expire). The
 * active key is the one named, else the first private key.
 */
export async function parseSigningKeys(
  text: string,
  source: string,
  activeKeyId?: string,
): Promise<SigningKeys> {
  const problems: string[] = []
  const parsed: ParsedKey[] = []
  const entries = keyEntries(text)
  if (!entries) throw new ConfigError([`${source}: must be a JWK Set, {"keys": [...]}`])
  for (const [index, entry] of entries.entries()) {
    const key = await parseKey(entry)
    if (typeof key === 'string') problems.push(`${source}: key ${index}: ${key}`)
    else if (parsed.some((other) => other.kid === key.kid)) {
      problems.push(`${source}: key ${index}: kid ${key.kid} is used twice`)
    } else parsed.push(key)
  }
  const active = activeKeyId
    ? parsed.find((key) => key.kid === activeKeyId)
    : parsed.find((key) => key.privateKey)
  if (!active) {
    problems.push(
      activeKeyId
        ? `JWT_ACTIVE_KEY_ID: ${source} has no key ${activeKeyId}`
        : `${source}: no key has the private part ("d") to sign with`,
    )
  } else if (!active.privateKey) {
    problems.push(`JWT_ACTIVE_KEY_ID: key ${activeKeyId} has no private part ("d") to sign with`)
  }
  if (problems.length > 0 || !active?.privateKey) throw new ConfigError(problems)
  return {
    active: { kid: active.kid, privateKey: active.privateKey },
    jwks: { keys: parsed.map((key) => key.publicJwk) },
  }
}

function keyEntries(text: string): unknown[] | undefined {
  try {
    const set = JSON.parse(text) as { keys?: unknown }
    return Array.isArray(set.keys) && set.keys.length > 0 ? set.keys : undefined
  } catch {
    return undefined
  }
}

// parseKey gives a key or what is wrong with it. The public half is derived from the private
// one when there is one, so a key whose "x" does not match its "d" cannot go out unnoticed.
async function parseKey(entry: unknown): Promise<ParsedKey | string> {
  const jwk = entry as JWK
  if (typeof entry !== 'object' || entry === null || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') {
    return 'must be an Ed25519 key (kty "OKP", crv "Ed25519")'
  }
  if (jwk.alg !== undefined && jwk.alg !== 'EdDSA' && jwk.alg !== 'Ed25519') {
    return `alg ${jwk.alg} is not EdDSA`
  }
  const curve = { kty: 'OKP', crv: 'Ed25519' } as const
  let privateKey: KeyObject | undefined
  let publicKey: KeyObject
  try {
    privateKey = jwk.d === undefined ? undefined : ed25519PrivateKey(jwk.d)
    publicKey = privateKey
      ? createPublicKey(privateKey)
      : createPublicKey({ key: { ...curve, x: jwk.x ?? '' }, format: 'jwk' })
  } catch {
    return 'is not a valid Ed25519 key'
  }
  const { x } = publicKey.export({ format: 'jwk' }) as { x: string }
  if (jwk.x !== undefined && jwk.x !== x) return '"x" is not the public half of "d"'
  const thumbprint = await calculateJwkThumbprint({ ...curve, x })
  const kid = typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid : thumbprint
  return {
    kid,
    privateKey,
    publicJwk: { ...curve, x, kid, alg: 'EdDSA', use: 'sig' },
  }
}

// ED25519_PKCS8_PREFIX is the DER of a PKCS #8 Ed25519 private key up to its 32-byte seed
// (RFC 8410, section 7): the one encoding every Node version imports from "d" alone. A JWK
// import needs "x" too, and Node 24 rejects the empty one that Node 20 let through.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

function ed25519PrivateKey(d: string): KeyObject {
  const seed = Buffer.from(d, 'base64url')
  if (seed.length !== 32 || seed.toString('base64url') !== d) throw new Error('not a 32-byte seed')
  return createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  })
}

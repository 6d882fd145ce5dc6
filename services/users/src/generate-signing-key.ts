// generate-signing-key prints a new Ed25519 signing key as a JWK Set, ready for
// JWT_SIGNING_KEYS or the file JWT_SIGNING_KEYS_FILE names. To rotate, add its key to the
// existing set (docs/decisions/0002-tokens-and-passwords.md says in which order).
import { generateSigningKey } from './signing-keys.ts'

process.stdout.write(`${JSON.stringify({ keys: [await generateSigningKey()] }, null, 2)}\n`)

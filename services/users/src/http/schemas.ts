import Type from 'typebox'
import { roles } from '@microshop/platform/auth/access-token-verifier'
import {
  EMAIL_MAX_LENGTH,
  NAME_MAX_LENGTH,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
} from '../domain/user.ts'

// Request bodies refuse unknown members: `{"role": "admin"}` in a sign-up is an error, not a no-op.

export const UserSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String({ format: 'email' }),
    name: Type.String(),
    role: Type.Enum([...roles]),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { title: 'User', description: 'An account.' },
)

export const RegisterBodySchema = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: EMAIL_MAX_LENGTH }),
    password: Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH }),
    name: Type.String({ minLength: 1, maxLength: NAME_MAX_LENGTH, pattern: '\\S' }),
  },
  { additionalProperties: false, title: 'Registration' },
)

// LogInBodySchema accepts any password up to the longest one could have set: a short one is
// simply wrong (401), which keeps the answer independent of the password rules.
export const LogInBodySchema = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: EMAIL_MAX_LENGTH }),
    password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
  },
  { additionalProperties: false, title: 'Credentials' },
)

export const RefreshTokenBodySchema = Type.Object(
  { refreshToken: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false, title: 'RefreshTokenRequest' },
)

export const TokenPairSchema = Type.Object(
  {
    accessToken: Type.String({ description: 'A JWT to send as `Authorization: Bearer ...`.' }),
    refreshToken: Type.String({
      description: 'An opaque token for `POST /auth/refresh`; it works once.',
    }),
    tokenType: Type.Literal('Bearer'),
    expiresIn: Type.Integer({ description: 'Seconds until the access token expires.' }),
  },
  { title: 'TokenPair', description: 'A new access token and refresh token.' },
)

export const JwksSchema = Type.Object(
  {
    keys: Type.Array(
      Type.Object(
        {
          kty: Type.Literal('OKP'),
          crv: Type.Literal('Ed25519'),
          x: Type.String(),
          kid: Type.String(),
          alg: Type.Literal('EdDSA'),
          use: Type.Literal('sig'),
        },
        { title: 'Jwk', description: 'A public key (RFC 8037 OKP, Ed25519).' },
      ),
    ),
  },
  { title: 'Jwks', description: 'The public keys that verify access tokens.' },
)

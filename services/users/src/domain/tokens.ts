import { createHash, randomBytes, randomUUID, type KeyObject } from 'node:crypto'
import { SignJWT } from 'jose'
import {
  ACCESS_TOKEN_ALGORITHM,
  ACCESS_TOKEN_TYPE,
} from '@microshop/platform/auth/access-token-verifier'
import type { User } from './user.ts'

export interface TokenSettings {
  issuer: string
  audience: string
  accessTokenTtlSeconds: number
  refreshTokenTtlSeconds: number
}

/** SigningKey is the private key that signs access tokens, named by the `kid` verifiers look up. */
export interface SigningKey {
  kid: string
  privateKey: KeyObject
}

/** TokenPair is what a sign-in or a refresh hands the client. */
export interface TokenPair {
  accessToken: string
  refreshToken: string
  tokenType: 'Bearer'
  /** expiresIn is the access token's lifetime in seconds. */
  expiresIn: number
}

/** RefreshTokenRecord is what is stored of a refresh token: its hash, never the token. */
export interface RefreshTokenRecord {
  hash: string
  expiresAt: Date
}

export interface IssuedTokens {
  pair: TokenPair
  refreshToken: RefreshTokenRecord
}

export interface TokenIssuer {
  /** issue signs an access token for the user and pairs it with a new refresh token. */
  issue(user: Pick<User, 'id' | 'role'>, now: Date): Promise<IssuedTokens>
}

/**
 * hashRefreshToken is how refresh tokens are stored and looked up. SHA-256 without a salt is
 * enough: the tokens are 256 random bits, so there is nothing to guess, only a leak to defuse.
 */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/**
 * createTokenIssuer signs short-lived EdDSA access tokens (`typ: at+jwt`, the key's `kid` in the
 * header) and makes refresh tokens: opaque random strings, so that no verifier could ever take
 * one for an access token.
 */
export function createTokenIssuer(signingKey: SigningKey, settings: TokenSettings): TokenIssuer {
  return {
    async issue(user, now) {
      const issuedAt = Math.floor(now.getTime() / 1000)
      const accessToken = await new SignJWT({ role: user.role })
        .setProtectedHeader({
          alg: ACCESS_TOKEN_ALGORITHM,
          typ: ACCESS_TOKEN_TYPE,
          kid: signingKey.kid,
        })
        .setSubject(user.id)
        .setIssuer(settings.issuer)
        .setAudience(settings.audience)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + settings.accessTokenTtlSeconds)
        .setJti(randomUUID())
        .sign(signingKey.privateKey)
      const refreshToken = randomBytes(32).toString('base64url')
      return {
        pair: {
          accessToken,
          refreshToken,
          tokenType: 'Bearer',
          expiresIn: settings.accessTokenTtlSeconds,
        },
        refreshToken: {
          hash: hashRefreshToken(refreshToken),
          expiresAt: new Date(now.getTime() + settings.refreshTokenTtlSeconds * 1000),
        },
      }
    },
  }
}

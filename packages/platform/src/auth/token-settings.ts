import Type, { type TProperties } from 'typebox'

/**
 * tokenEnv holds the access-token settings, once for every service: where the users service
 * publishes its keys (JWKS_URL) and the issuer and audience a token must name. A service that
 * checks tokens spreads them into its schema; users (which signs them) and the gateway take the
 * ones they need.
 */
export function tokenEnv() {
  return {
    /** JWKS_URL is where the users service publishes the keys that sign access tokens. */
    JWKS_URL: Type.String({
      default: 'http://127.0.0.1:8081/auth/jwks.json',
      pattern: '^https?://',
    }),
    JWT_ISSUER: Type.String({ default: 'microshop', minLength: 1 }),
    JWT_AUDIENCE: Type.String({ default: 'microshop', minLength: 1 }),
  } satisfies TProperties
}

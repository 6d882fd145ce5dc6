import Type from 'typebox'
import type { HttpApp } from '@microshop/platform/http/app'
import { problemResponseSchema } from '@microshop/platform/http/problem'
import type { Accounts } from '../domain/accounts.ts'
import { logIn } from '../domain/log-in.ts'
import { logOut } from '../domain/log-out.ts'
import { refreshSession } from '../domain/refresh-session.ts'
import { registerUser } from '../domain/register-user.ts'
import type { SigningKeys } from '../signing-keys.ts'
import {
  JwksSchema,
  LogInBodySchema,
  RefreshTokenBodySchema,
  RegisterBodySchema,
  TokenPairSchema,
  UserSchema,
} from './schemas.ts'
import { toUserResponse } from './user-routes.ts'

const tags = ['auth']

// JWKS_MAX_AGE_SECONDS lets verifiers and proxies cache the keys; a new key is published this
// long before it signs (docs/decisions/0002-tokens-and-passwords.md).
const JWKS_MAX_AGE_SECONDS = 300

/** registerAuthRoutes adds sign-up, sign-in, refresh, sign-out and the public keys. */
export function registerAuthRoutes(app: HttpApp, accounts: Accounts, jwks: SigningKeys['jwks']) {
  app.post(
    '/auth/register',
    {
      schema: {
        tags,
        summary: 'Open a customer account',
        body: RegisterBodySchema,
        response: {
          201: UserSchema,
          400: problemResponseSchema('The details break a rule; `errors` says which.'),
          409: problemResponseSchema('An account with this email (in any letter case) exists.'),
        },
      },
    },
    async (request, reply) =>
      reply.code(201).send(toUserResponse(await registerUser(accounts, request.body))),
  )

  app.post(
    '/auth/login',
    {
      schema: {
        tags,
        summary: 'Sign in: exchange email and password for tokens',
        body: LogInBodySchema,
        response: {
          200: TokenPairSchema,
          400: problemResponseSchema('The request is malformed.'),
          401: problemResponseSchema(
            'The email or password is wrong (the answer does not say which).',
          ),
          429: problemResponseSchema('Too many failed attempts for this email; see `Retry-After`.'),
        },
      },
    },
    async (request, reply) =>
      reply.header('cache-control', 'no-store').send(await logIn(accounts, request.body)),
  )

  app.post(
    '/auth/refresh',
    {
      schema: {
        tags,
        summary: 'Trade a refresh token for a new pair; the old refresh token stops working',
        description:
          'A refresh token works once. Presenting one that was already used revokes its whole session.',
        body: RefreshTokenBodySchema,
        response: {
          200: TokenPairSchema,
          400: problemResponseSchema('The request is malformed.'),
          401: problemResponseSchema('The refresh token is unknown, expired, used or revoked.'),
        },
      },
    },
    async (request, reply) =>
      reply.header('cache-control', 'no-store').send(await refreshSession(accounts, request.body)),
  )

  app.post(
    '/auth/logout',
    {
      schema: {
        tags,
        summary: 'Sign out: end the session of a refresh token',
        body: RefreshTokenBodySchema,
        response: {
          204: Type.Null({ description: 'Signed out (also when the token was unknown).' }),
          400: problemResponseSchema('The request is malformed.'),
        },
      },
    },
    async (request, reply) => {
      await logOut(accounts, request.body)
      return reply.code(204).send(null)
    },
  )

  app.get(
    '/auth/jwks.json',
    {
      schema: {
        tags,
        summary: 'The public keys that verify access tokens (JWKS)',
        response: { 200: JwksSchema },
      },
    },
    async (_request, reply) =>
      reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`).send(jwks),
  )
}

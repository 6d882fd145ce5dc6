import Type from 'typebox'
import type { HttpApp } from '@microshop/platform/http/app'
import { withResponseHeaders } from '@microshop/platform/http/openapi-document'
import { problemResponseSchema } from '@microshop/platform/http/problem'
import type { UsersContext } from '../domain/users-context.ts'
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

// noStore documents that token pairs are never cached (every other answer is not either).
const noStore = <T extends object>(schema: T) =>
  withResponseHeaders(schema, {
    'Cache-Control': { type: 'string', description: '`no-store`: tokens are never cached.' },
  })

/** registerAuthRoutes adds sign-up, sign-in, refresh, sign-out and the public keys. */
export function registerAuthRoutes(app: HttpApp, ctx: UsersContext, jwks: SigningKeys['jwks']) {
  app.post(
    '/auth/register',
    {
      schema: {
        tags,
        operationId: 'registerUser',
        summary: 'Open a customer account',
        description:
          'Opens an account with the customer role. The email is unique regardless of letter case; ' +
          'the password is 8 to 128 characters. Sign in afterwards to get tokens.',
        body: RegisterBodySchema,
        response: {
          201: UserSchema,
          400: problemResponseSchema('The details break a rule; `errors` says which.'),
          409: problemResponseSchema('An account with this email (in any letter case) exists.'),
        },
      },
    },
    async (request, reply) =>
      reply.code(201).send(toUserResponse(await registerUser(ctx, request.body))),
  )

  app.post(
    '/auth/login',
    {
      schema: {
        tags,
        operationId: 'logIn',
        summary: 'Sign in: exchange email and password for tokens',
        description:
          'A wrong email and a wrong password get the same 401. Repeated failures for one email, or ' +
          'from one client address, are refused for a while with a 429 and `Retry-After`.',
        body: LogInBodySchema,
        response: {
          200: noStore(TokenPairSchema),
          400: problemResponseSchema('The request is malformed.'),
          401: problemResponseSchema(
            'The email or password is wrong (the answer does not say which).',
          ),
          429: problemResponseSchema('Too many failed attempts for this email; see `Retry-After`.'),
        },
      },
    },
    async (request, reply) =>
      reply
        .header('cache-control', 'no-store')
        .send(await logIn(ctx, { ...request.body, clientAddress: request.ip })),
  )

  app.post(
    '/auth/refresh',
    {
      schema: {
        tags,
        operationId: 'refreshTokens',
        summary: 'Trade a refresh token for a new pair; the old refresh token stops working',
        description:
          'A refresh token works once. Presenting one that was already used revokes its whole session.',
        body: RefreshTokenBodySchema,
        response: {
          200: noStore(TokenPairSchema),
          400: problemResponseSchema('The request is malformed.'),
          401: problemResponseSchema('The refresh token is unknown, expired, used or revoked.'),
        },
      },
    },
    async (request, reply) =>
      reply.header('cache-control', 'no-store').send(await refreshSession(ctx, request.body)),
  )

  app.post(
    '/auth/logout',
    {
      schema: {
        tags,
        operationId: 'logOut',
        summary: 'Sign out: end the session of a refresh token',
        description:
          'Ends the session the refresh token belongs to; its access tokens stay valid until they expire.',
        body: RefreshTokenBodySchema,
        response: {
          204: Type.Null({ description: 'Signed out (also when the token was unknown).' }),
          400: problemResponseSchema('The request is malformed.'),
        },
      },
    },
    async (request, reply) => {
      await logOut(ctx, request.body)
      return reply.code(204).send(null)
    },
  )

  app.get(
    '/auth/jwks.json',
    {
      schema: {
        tags,
        operationId: 'getJwks',
        summary: 'The public keys that verify access tokens (JWKS)',
        description:
          'Every service verifies access tokens with these keys (the `kid` in the token header ' +
          'names one). A new key is published before it signs, so caching them is safe.',
        response: {
          200: withResponseHeaders(JwksSchema, {
            'Cache-Control': {
              type: 'string',
              description: `\`public, max-age=${JWKS_MAX_AGE_SECONDS}\`: the keys may be cached.`,
            },
          }),
        },
      },
    },
    async (_request, reply) =>
      reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`).send(jwks),
  )
}

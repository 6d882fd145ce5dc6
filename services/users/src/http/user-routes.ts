import type { Static } from 'typebox'
import type { BearerAuth } from '@microshop/platform/auth/bearer-auth'
import type { HttpApp } from '@microshop/platform/http/app'
import { problemResponseSchema } from '@microshop/platform/http/problem'
import type { UsersContext } from '../domain/users-context.ts'
import { getUser } from '../domain/get-user.ts'
import type { User } from '../domain/user.ts'
import { UserSchema } from './schemas.ts'

export function toUserResponse(user: User): Static<typeof UserSchema> {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
  }
}

/** registerUserRoutes adds the routes about the signed-in user. */
export function registerUserRoutes(app: HttpApp, ctx: UsersContext, auth: BearerAuth) {
  app.get(
    '/users/me',
    {
      schema: {
        tags: ['users'],
        operationId: 'getCurrentUser',
        summary: 'The signed-in user',
        description: 'The account the access token was issued to.',
        security: [{ bearer: [] }],
        response: {
          200: UserSchema,
          401: problemResponseSchema('No access token, or not a valid one.'),
          404: problemResponseSchema('The account no longer exists.'),
        },
      },
    },
    async (request) => {
      const caller = await auth.requireUser(request)
      return toUserResponse(await getUser(ctx, caller.userId))
    },
  )
}

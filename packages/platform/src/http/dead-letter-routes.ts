import Type from 'typebox'
import type { BearerAuth } from '../auth/bearer-auth.ts'
import type { Database } from '../db/database.ts'
import { listDeadLetters, replayDeadLetter } from '../events/dead-letters.ts'
import type { Subscription } from '../events/event-bus.ts'
import type { HttpApp } from './app.ts'

const DeadLetterSchema = Type.Object({
  id: Type.Integer(),
  consumer: Type.String(),
  eventId: Type.String(),
  eventType: Type.String(),
  reason: Type.String(),
  attempts: Type.Integer(),
  deadLetteredAt: Type.String({ format: 'date-time' }),
  event: Type.String({ description: 'The event as it was received.' }),
})

/**
 * registerDeadLetterRoutes lets an admin see the service's parked events and replay one once its
 * cause is fixed: `GET /admin/dead-letters`, `POST /admin/dead-letters/{id}/replay`. They are
 * the service's own, not routed by the gateway: an operator calls the service itself (a port
 * forward, `docker compose exec`), with an admin's access token.
 */
export function registerDeadLetterRoutes<DB>(
  app: HttpApp,
  options: {
    database: Database<DB>
    subscriptions: () => readonly Subscription[]
    auth: BearerAuth
  },
): void {
  app.get(
    '/admin/dead-letters',
    {
      schema: {
        hide: true,
        querystring: Type.Object({
          consumer: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9-]*$', maxLength: 64 })),
          limit: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
        }),
        response: { 200: Type.Object({ items: Type.Array(DeadLetterSchema) }) },
      },
    },
    async (request) => {
      await options.auth.requireRole(request, 'admin')
      const letters = await listDeadLetters(options.database, request.query)
      return {
        items: letters.map((letter) => ({
          ...letter,
          id: Number(letter.id),
          deadLetteredAt: new Date(letter.deadLetteredAt).toISOString(),
        })),
      }
    },
  )
  app.post(
    '/admin/dead-letters/:id/replay',
    {
      schema: {
        hide: true,
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: { 200: Type.Object({ outcome: Type.Enum(['handled', 'parked again']) }) },
      },
    },
    async (request) => {
      await options.auth.requireRole(request, 'admin')
      const outcome = await replayDeadLetter(options.database, {
        id: request.params.id,
        subscriptions: options.subscriptions(),
        logger: request.log,
      })
      return { outcome }
    },
  )
}

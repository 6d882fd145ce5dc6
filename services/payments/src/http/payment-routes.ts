import type { Kysely } from 'kysely'
import type { BearerAuth } from '@microshop/platform/auth/bearer-auth'
import type { HttpApp } from '@microshop/platform/http/app'
import { problemResponseSchema as problem } from '@microshop/platform/http/problem'
import type { PaymentsTables } from '../db/tables.ts'
import { getPayment, listPayments } from '../domain/browse-payments.ts'
import { PaymentListQuery, PaymentPage, PaymentParams, PaymentSchema } from './payment-schemas.ts'

export function registerPaymentRoutes(app: HttpApp, db: Kysely<PaymentsTables>, auth: BearerAuth) {
  app.get(
    '/payments',
    {
      schema: {
        tags: ['payments'],
        summary: "List the caller's payments, newest first (an admin's: everyone's)",
        security: [{ bearer: [] }],
        querystring: PaymentListQuery,
        response: {
          200: PaymentPage,
          400: problem('The query is not valid.'),
          401: problem('No valid access token.'),
        },
      },
    },
    async (request) => {
      const caller = await auth.requireUser(request)
      return listPayments(db, caller, request.query)
    },
  )

  app.get(
    '/payments/:id',
    {
      schema: {
        tags: ['payments'],
        summary: 'Get a payment',
        security: [{ bearer: [] }],
        params: PaymentParams,
        response: {
          200: PaymentSchema,
          400: problem('The id is not a UUID.'),
          401: problem('No valid access token.'),
          404: problem("No such payment, or someone else's."),
        },
      },
    },
    async (request) => {
      const caller = await auth.requireUser(request)
      return getPayment(db, caller, request.params.id)
    },
  )
}

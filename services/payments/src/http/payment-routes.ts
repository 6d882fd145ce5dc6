import type { BearerAuth } from '@microshop/platform/auth/bearer-auth'
import type { HttpApp } from '@microshop/platform/http/app'
import { problemResponseSchema as problem } from '@microshop/platform/http/problem'
import { getPayment, listPayments } from '../domain/browse-payments.ts'
import type { PaymentsContext } from '../domain/payments-context.ts'
import { PaymentListQuery, PaymentPage, PaymentParams, PaymentSchema } from './payment-schemas.ts'

/** registerPaymentRoutes adds the payments API: a caller's own payments (an admin's: everyone's). */
export function registerPaymentRoutes(app: HttpApp, ctx: PaymentsContext, auth: BearerAuth) {
  app.get(
    '/payments',
    {
      schema: {
        tags: ['payments'],
        operationId: 'listPayments',
        summary: "List the caller's payments, newest first (an admin's: everyone's)",
        description:
          'A page at a time (`limit`, then the `nextCursor` of each page as `cursor`); `orderId` ' +
          "narrows it to one order's payment.",
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
      return listPayments(ctx, caller, request.query)
    },
  )

  app.get(
    '/payments/:id',
    {
      schema: {
        tags: ['payments'],
        operationId: 'getPayment',
        summary: 'Get a payment',
        description:
          "A payment with its status and, when it failed, why. Another customer's payment is a 404.",
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
      return getPayment(ctx, caller, request.params.id)
    },
  )
}

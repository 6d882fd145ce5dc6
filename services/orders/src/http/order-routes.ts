import { randomUUID } from 'node:crypto'
import type { BearerAuth } from '@microshop/platform/auth/bearer-auth'
import {
  ADMISSION_CAPACITY_HEADER,
  formatAdmissionCapacity,
} from '@microshop/platform/http/admission-capacity'
import type { HttpApp } from '@microshop/platform/http/app'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { withResponseHeaders } from '@microshop/platform/http/openapi-document'
import { problemResponseSchema as problem } from '@microshop/platform/http/problem'
import { getOrder, listOrders } from '../domain/browse-orders.ts'
import { cancelOrder } from '../domain/cancel-order.ts'
import type { OrdersContext } from '../domain/orders-context.ts'
import { PLACED_STATUS, placeOrder } from '../domain/place-order.ts'
import {
  NewOrderSchema,
  OrderListQuery,
  OrderPage,
  OrderParams,
  OrderSchema,
  PlaceOrderHeaders,
} from './order-schemas.ts'

export interface OrderRoutesOptions {
  /** publicBasePath is where clients reach this API through the gateway, e.g. `/api`. */
  publicBasePath: string
}

export function registerOrderRoutes(
  app: HttpApp,
  ctx: OrdersContext,
  auth: BearerAuth,
  options: OrderRoutesOptions,
) {
  app.post(
    '/orders',
    {
      schema: {
        tags: ['orders'],
        operationId: 'placeOrder',
        summary: 'Place an order; the checkout saga confirms or rejects it',
        description:
          'Prices come from the catalogue, never from the client. The order is answered PENDING; ' +
          'follow it at its `Location` until it is CONFIRMED or REJECTED.\n\n' +
          'With an `Idempotency-Key` the request is safe to retry: the same key and the same body ' +
          'answer the order the first request placed (with `Idempotent-Replayed: true`), the same ' +
          'key with another body is a 422, and the same key while the first request still runs is ' +
          'a 409. A key is remembered per customer for at least a day (IDEMPOTENCY_KEY_RETENTION_HOURS).',
        security: [{ bearer: [] }],
        headers: PlaceOrderHeaders,
        body: NewOrderSchema,
        response: {
          202: withResponseHeaders(OrderSchema, {
            Location: {
              type: 'string',
              format: 'uri-reference',
              description: 'The order: `/api/orders/{id}`.',
            },
            'Idempotent-Replayed': {
              type: 'string',
              description:
                '`true` when this answers an earlier request with the same `Idempotency-Key`; absent otherwise.',
            },
          }),
          400: problem('The order is not valid, or the payment method is a card number.'),
          401: problem('No valid access token.'),
          409: problem('A request with this Idempotency-Key is still in progress.'),
          422: problem('A product is not in the catalogue, or the key was used with another body.'),
          503: problem(
            'The shop has as many checkouts in flight as it can settle (with `Retry-After`), or the catalogue could not be reached to price the order.',
          ),
        },
      },
      ...tellsCapacity(ctx),
    },
    async (request, reply) => {
      const caller = await auth.requireUser(request)
      const placed = await placeOrder(ctx, {
        caller,
        request: request.body,
        idempotencyKey: request.headers['idempotency-key'],
        traceparent: request.trace.traceparent,
      })
      if (placed.replayed) void reply.header('idempotent-replayed', 'true')
      return reply
        .code(PLACED_STATUS)
        .header('location', `${options.publicBasePath}/orders/${placed.order.id}`)
        .send(placed.order)
    },
  )

  app.get(
    '/orders',
    {
      schema: {
        tags: ['orders'],
        operationId: 'listOrders',
        summary: "List the caller's orders, newest first (an admin's list holds everyone's)",
        description:
          'A page at a time (`limit`, then the `nextCursor` of each page as `cursor`), optionally ' +
          'only those with one `status`.',
        security: [{ bearer: [] }],
        querystring: OrderListQuery,
        response: {
          200: OrderPage,
          400: problem('The query is not valid.'),
          401: problem('No valid access token.'),
        },
      },
    },
    async (request) => {
      const caller = await auth.requireUser(request)
      return listOrders(ctx, caller, request.query)
    },
  )

  app.get(
    '/orders/:id',
    {
      schema: {
        tags: ['orders'],
        operationId: 'getOrder',
        summary: 'Get an order with its status history',
        description:
          "The order, its lines at the prices it was placed at, and every status it went through. Another customer's order is a 404.",
        security: [{ bearer: [] }],
        params: OrderParams,
        response: {
          200: OrderSchema,
          400: problem('The id is not a UUID.'),
          401: problem('No valid access token.'),
          404: problem('No such order, or it belongs to someone else.'),
        },
      },
    },
    async (request) => {
      const caller = await auth.requireUser(request)
      return getOrder(ctx, caller, request.params.id)
    },
  )

  app.post(
    '/orders/:id/cancel',
    {
      schema: {
        tags: ['orders'],
        operationId: 'cancelOrder',
        summary: 'Cancel an order: stock is released, a payment voided or refunded',
        description:
          'A PENDING or CONFIRMED order becomes CANCELLED: its stock reservation is released and ' +
          'its payment voided or refunded. Cancelling a CANCELLED order again answers it as it is ' +
          '(a retry is safe); a REJECTED order is a 409.',
        security: [{ bearer: [] }],
        params: OrderParams,
        response: {
          200: OrderSchema,
          400: problem('The id is not a UUID.'),
          401: problem('No valid access token.'),
          404: problem('No such order, or it belongs to someone else.'),
          409: problem('The order was rejected: there is nothing to cancel.'),
        },
      },
    },
    async (request) => {
      const caller = await auth.requireUser(request)
      return cancelOrder(ctx, caller, request.params.id, request.trace.traceparent)
    },
  )
}

/**
 * tellsCapacity puts admission control's room on every answer to a placement, admitted or not
 * (`Admission-Capacity`, as the answer leaves, with this replica's name): the gateway forwards a
 * checkout only while there is room for it, and refuses the rest itself, at once (decision 0015).
 */
function tellsCapacity(ctx: OrdersContext) {
  const replica = randomUUID().slice(0, 8)
  return {
    onSend: async (_request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      const room = ctx.admission.room()
      if (room) {
        void reply.header(ADMISSION_CAPACITY_HEADER, formatAdmissionCapacity({ ...room, replica }))
      }
      return payload
    },
  }
}

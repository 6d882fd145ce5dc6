import type { BearerAuth } from '@microshop/platform/auth/bearer-auth'
import type { HttpApp } from '@microshop/platform/http/app'
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
        summary: 'Place an order; the checkout saga confirms or rejects it',
        security: [{ bearer: [] }],
        headers: PlaceOrderHeaders,
        body: NewOrderSchema,
        response: {
          202: OrderSchema,
          400: problem('The order is not valid, or the payment method is a card number.'),
          401: problem('No valid access token.'),
          409: problem('A request with this Idempotency-Key is still in progress.'),
          422: problem('A product is not in the catalogue, or the key was used with another body.'),
          503: problem('The catalogue could not be reached to price the order.'),
        },
      },
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
        summary: "List the caller's orders, newest first (an admin's list holds everyone's)",
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
        summary: 'Get an order with its status history',
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
        summary: 'Cancel an order: stock is released, a payment voided or refunded',
        security: [{ bearer: [] }],
        params: OrderParams,
        response: {
          200: OrderSchema,
          400: problem('The id is not a UUID.'),
          401: problem('No valid access token.'),
          404: problem('No such order, or it belongs to someone else.'),
          409: problem('The order is already rejected or cancelled.'),
        },
      },
    },
    async (request) => {
      const caller = await auth.requireUser(request)
      return cancelOrder(ctx, caller, request.params.id, request.trace.traceparent)
    },
  )
}

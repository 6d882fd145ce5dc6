import type { Kysely } from 'kysely'
import type { BearerAuth } from '@microshop/platform/auth/bearer-auth'
import type { HttpApp } from '@microshop/platform/http/app'
import { problemResponseSchema as problem } from '@microshop/platform/http/problem'
import type { CatalogTables } from '../db/tables.ts'
import { getProduct, listProducts } from '../domain/browse-products.ts'
import { createProduct, updateProduct } from '../domain/manage-products.ts'
import {
  NewProductSchema,
  ProductChangesSchema,
  ProductListQuery,
  ProductPage,
  ProductParams,
  ProductSchema,
} from './product-schemas.ts'

export function registerProductRoutes(app: HttpApp, db: Kysely<CatalogTables>, auth: BearerAuth) {
  app.get(
    '/products',
    {
      schema: {
        tags: ['catalog'],
        summary: 'List products, optionally matching a search text',
        querystring: ProductListQuery,
        response: { 200: ProductPage, 400: problem('The query is not valid.') },
      },
    },
    (request) =>
      listProducts(db, {
        query: request.query.q,
        limit: request.query.limit,
        cursor: request.query.cursor,
      }),
  )

  app.get(
    '/products/:id',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Get a product',
        params: ProductParams,
        response: {
          200: ProductSchema,
          400: problem('The id is not a UUID.'),
          404: problem('No such product.'),
        },
      },
    },
    (request) => getProduct(db, request.params.id),
  )

  app.post(
    '/products',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Add a product (admin)',
        security: [{ bearer: [] }],
        body: NewProductSchema,
        response: {
          201: ProductSchema,
          400: problem('The product is not valid.'),
          401: problem('No valid access token.'),
          403: problem('Only admins manage products.'),
          409: problem('The sku is taken.'),
        },
      },
    },
    async (request, reply) => {
      await auth.requireRole(request, 'admin')
      const product = await createProduct(db, request.body, request.trace.traceparent)
      return reply.code(201).header('location', `/products/${product.id}`).send(product)
    },
  )

  app.patch(
    '/products/:id',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Change a product (admin)',
        security: [{ bearer: [] }],
        params: ProductParams,
        body: ProductChangesSchema,
        response: {
          200: ProductSchema,
          400: problem('The changes are not valid.'),
          401: problem('No valid access token.'),
          403: problem('Only admins manage products.'),
          404: problem('No such product.'),
          409: problem('The sku is taken, or stock would drop below what is reserved.'),
        },
      },
    },
    async (request) => {
      await auth.requireRole(request, 'admin')
      return updateProduct(db, request.params.id, request.body, request.trace.traceparent)
    },
  )
}

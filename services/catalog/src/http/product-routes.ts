import type { BearerAuth } from '@microshop/platform/auth/bearer-auth'
import type { HttpApp } from '@microshop/platform/http/app'
import { withResponseHeaders } from '@microshop/platform/http/openapi-document'
import { problemResponseSchema as problem } from '@microshop/platform/http/problem'
import type { CatalogContext } from '../domain/catalog-context.ts'
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

/** registerProductRoutes adds the products API: browsing for everyone, changes for admins. */
export function registerProductRoutes(app: HttpApp, ctx: CatalogContext, auth: BearerAuth) {
  app.get(
    '/products',
    {
      schema: {
        tags: ['catalog'],
        operationId: 'listProducts',
        summary: 'List products, optionally matching a search text',
        description:
          'Products by sku, a page at a time (`limit`, then the `nextCursor` of each page as ' +
          '`cursor`). `q` keeps those whose sku, name or description contains it, in any letter case.',
        querystring: ProductListQuery,
        response: { 200: ProductPage, 400: problem('The query is not valid.') },
      },
    },
    (request) =>
      listProducts(ctx, {
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
        operationId: 'getProduct',
        summary: 'Get a product',
        description: 'A product with its price and the stock available to order now.',
        params: ProductParams,
        response: {
          200: ProductSchema,
          400: problem('The id is not a UUID.'),
          404: problem('No such product.'),
        },
      },
    },
    (request) => getProduct(ctx, request.params.id),
  )

  app.post(
    '/products',
    {
      schema: {
        tags: ['catalog'],
        operationId: 'createProduct',
        summary: 'Add a product (admin)',
        description:
          'Adds a product with its stock on hand. Only admins; the sku is unique regardless of case.',
        security: [{ bearer: [] }],
        body: NewProductSchema,
        response: {
          201: withResponseHeaders(ProductSchema, {
            Location: {
              type: 'string',
              format: 'uri-reference',
              description: 'The new product: `/api/products/{id}`.',
            },
          }),
          400: problem('The product is not valid.'),
          401: problem('No valid access token.'),
          403: problem('Only admins manage products.'),
          409: problem('The sku is taken.'),
        },
      },
    },
    async (request, reply) => {
      await auth.requireRole(request, 'admin')
      const product = await createProduct(ctx, request.body, request.trace.traceparent)
      return reply.code(201).header('location', `/products/${product.id}`).send(product)
    },
  )

  app.patch(
    '/products/:id',
    {
      schema: {
        tags: ['catalog'],
        operationId: 'updateProduct',
        summary: 'Change a product (admin)',
        description:
          'Changes any of sku, name, description, price and stock on hand. Only admins. Orders ' +
          'already placed keep the price they were placed at.',
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
      return updateProduct(ctx, request.params.id, request.body, request.trace.traceparent)
    },
  )
}

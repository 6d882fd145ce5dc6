import Type from 'typebox'
import { PageOf, PageQuery } from '@microshop/platform/pagination'

const MoneySchema = Type.Object(
  {
    amount: Type.Integer({ minimum: 0, maximum: 100_000_000, description: 'minor units (cents)' }),
    currency: Type.Literal('USD'),
  },
  { additionalProperties: false },
)

export const ProductSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  sku: Type.String(),
  name: Type.String(),
  description: Type.String(),
  price: MoneySchema,
  stock: Type.Object({ available: Type.Integer() }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
})

const fields = {
  sku: Type.String({
    pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
    description: 'unique, case-insensitively',
  }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.String({ maxLength: 5000 }),
  price: MoneySchema,
  stock: Type.Integer({ minimum: 0, maximum: 1_000_000_000, description: 'quantity on hand' }),
}

export const NewProductSchema = Type.Object(
  { ...fields, description: Type.Optional(fields.description) },
  { additionalProperties: false },
)

export const ProductChangesSchema = Type.Object(
  {
    sku: Type.Optional(fields.sku),
    name: Type.Optional(fields.name),
    description: Type.Optional(fields.description),
    price: Type.Optional(fields.price),
    stock: Type.Optional(fields.stock),
  },
  { additionalProperties: false, minProperties: 1 },
)

export const ProductParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

export const ProductListQuery = Type.Object({
  ...PageQuery,
  q: Type.Optional(Type.String({ maxLength: 200 })),
})

export const ProductPage = PageOf(ProductSchema)

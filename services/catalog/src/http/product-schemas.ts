import Type from 'typebox'
import { Money, moneySchema } from '@microshop/contracts/money'
import { PageOf, PageQuery } from '@microshop/platform/pagination'

// PriceSchema is a price as an admin sets it: in the shop's one currency, at most a million.
const PriceSchema = moneySchema({ maxAmount: 100_000_000, currency: 'USD', title: 'Price' })

export const ProductSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    sku: Type.String(),
    name: Type.String(),
    description: Type.String(),
    price: Money,
    stock: Type.Object(
      { available: Type.Integer({ description: 'On hand and not reserved by pending orders.' }) },
      { title: 'Stock' },
    ),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { title: 'Product', description: 'A product.' },
)

const fields = {
  sku: Type.String({
    pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
    description: 'unique, case-insensitively',
  }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.String({ maxLength: 5000 }),
  price: PriceSchema,
  stock: Type.Integer({ minimum: 0, maximum: 1_000_000_000, description: 'quantity on hand' }),
}

export const NewProductSchema = Type.Object(
  { ...fields, description: Type.Optional(fields.description) },
  { additionalProperties: false, title: 'NewProduct' },
)

export const ProductChangesSchema = Type.Object(
  {
    sku: Type.Optional(fields.sku),
    name: Type.Optional(fields.name),
    description: Type.Optional(fields.description),
    price: Type.Optional(fields.price),
    stock: Type.Optional(fields.stock),
  },
  { additionalProperties: false, minProperties: 1, title: 'ProductChanges' },
)

export const ProductParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

export const ProductListQuery = Type.Object({
  ...PageQuery,
  q: Type.Optional(Type.String({ maxLength: 200 })),
})

export const ProductPage = PageOf(ProductSchema, 'ProductPage')

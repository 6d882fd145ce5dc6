import Type from 'typebox'
import { Money } from '@microshop/contracts/money'
import { PaymentMethodSchema } from '@microshop/contracts/payment-method'
import { PageOf, PageQuery } from '@microshop/platform/pagination'
import { orderStatuses } from '../domain/order.ts'
import { MAX_LINES, MAX_QUANTITY } from '../domain/order-request.ts'

const Uuid = Type.String({ format: 'uuid' })

const StatusSchema = Type.Enum([...orderStatuses], { title: 'OrderStatus' })

export const OrderSchema = Type.Object(
  {
    id: Uuid,
    userId: Uuid,
    status: StatusSchema,
    items: Type.Array(
      Type.Object(
        {
          productId: Uuid,
          sku: Type.String(),
          name: Type.String(),
          unitPrice: Money,
          quantity: Type.Integer(),
          lineTotal: Money,
        },
        { title: 'OrderLine' },
      ),
    ),
    total: Money,
    paymentId: Type.Union([Uuid, Type.Null()]),
    statusHistory: Type.Array(
      Type.Object(
        {
          status: StatusSchema,
          at: Type.String({ format: 'date-time' }),
          reason: Type.Union([Type.String(), Type.Null()], {
            description:
              'Why, e.g. `out_of_stock` or `payment_declined`; null when nothing to say.',
          }),
        },
        { title: 'OrderStatusChange' },
      ),
    ),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { title: 'Order', description: 'An order with its lines, total and status history.' },
)

export const NewOrderSchema = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        {
          productId: Uuid,
          quantity: Type.Integer({ minimum: 1, maximum: MAX_QUANTITY, description: '1 to 100' }),
        },
        { additionalProperties: false, title: 'NewOrderLine' },
      ),
      {
        minItems: 1,
        maxItems: MAX_LINES,
        description:
          '1 to 50 lines, one per product (a product on two lines is a 400); prices come from the catalogue.',
      },
    ),
    paymentMethod: PaymentMethodSchema,
  },
  { additionalProperties: false, title: 'NewOrder' },
)

export const PlaceOrderHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x20-\\x7E]+$',
      description:
        'Makes the request safe to retry: the same key with the same body returns the same order.',
    }),
  ),
})

export const OrderParams = Type.Object({ id: Uuid })

export const OrderListQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(StatusSchema),
})

export const OrderPage = PageOf(OrderSchema, 'OrderPage')

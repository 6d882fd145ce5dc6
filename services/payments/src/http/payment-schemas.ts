import Type from 'typebox'
import { Money } from '@microshop/contracts/money'
import { PageOf, PageQuery } from '@microshop/platform/pagination'

export const PaymentSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    orderId: Type.String({ format: 'uuid' }),
    amount: Money,
    status: Type.Union(
      [
        Type.Literal('PENDING'),
        Type.Literal('SUCCEEDED'),
        Type.Literal('FAILED'),
        Type.Literal('REFUNDED'),
      ],
      { title: 'PaymentStatus' },
    ),
    failureReason: Type.Union(
      [
        Type.Literal('card_declined'),
        Type.Literal('insufficient_funds'),
        Type.Literal('expired_card'),
        Type.Literal('processing_error'),
        Type.Literal('invalid_payment_method'),
        Type.Null(),
      ],
      { description: 'Why a FAILED payment failed; null otherwise.' },
    ),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { title: 'Payment', description: 'A payment of an order.' },
)

export const PaymentParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

export const PaymentListQuery = Type.Object({
  ...PageQuery,
  orderId: Type.Optional(
    Type.String({ format: 'uuid', description: "Only this order's payment." }),
  ),
})

export const PaymentPage = PageOf(PaymentSchema, 'PaymentPage')

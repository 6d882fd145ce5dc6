import Type from 'typebox'
import { PageOf, PageQuery } from '@microshop/platform/pagination'

const MoneySchema = Type.Object({
  amount: Type.Integer({ minimum: 0, description: 'minor units (cents)' }),
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
})

export const PaymentSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  orderId: Type.String({ format: 'uuid' }),
  amount: MoneySchema,
  status: Type.Union([
    Type.Literal('PENDING'),
    Type.Literal('SUCCEEDED'),
    Type.Literal('FAILED'),
    Type.Literal('REFUNDED'),
  ]),
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
})

export const PaymentParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

export const PaymentListQuery = Type.Object({
  ...PageQuery,
  orderId: Type.Optional(
    Type.String({ format: 'uuid', description: "Only this order's payment." }),
  ),
})

export const PaymentPage = PageOf(PaymentSchema)

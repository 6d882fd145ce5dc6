import Type from 'typebox'
import { defineEvent, type EventPayload } from './define-event.ts'
import { Timestamp, Uuid } from './ids.ts'
import { Money } from './money.ts'

export const stockReserved = defineEvent({
  type: 'catalog.stock.reserved.v1',
  producer: 'catalog',
  description:
    'Stock for every line of an order is held until expiresAt, priced from the catalogue.',
  payload: Type.Object({
    orderId: Uuid(),
    reservationId: Uuid(),
    lines: Type.Array(
      Type.Object({
        productId: Uuid(),
        sku: Type.String({ minLength: 1 }),
        name: Type.String({ minLength: 1 }),
        unitPrice: Money,
        quantity: Type.Integer({ minimum: 1 }),
      }),
      { minItems: 1 },
    ),
    expiresAt: Timestamp('A reservation not committed by then is released.'),
  }),
})
export type StockReserved = EventPayload<typeof stockReserved>

export const stockReservationFailed = defineEvent({
  type: 'catalog.stock.reservation-failed.v1',
  producer: 'catalog',
  description: 'Stock could not be reserved for an order; nothing was held.',
  payload: Type.Object({
    orderId: Uuid(),
    reason: Type.Union([Type.Literal('out_of_stock'), Type.Literal('unknown_product')]),
    lines: Type.Array(
      Type.Object({
        productId: Uuid(),
        requested: Type.Integer({ minimum: 1 }),
        available: Type.Integer({ minimum: 0 }),
      }),
      { description: 'The lines that could not be served.' },
    ),
  }),
})
export type StockReservationFailed = EventPayload<typeof stockReservationFailed>

export const stockReleased = defineEvent({
  type: 'catalog.stock.released.v1',
  producer: 'catalog',
  description: 'A reservation was released (rejected, cancelled or expired); its stock is back.',
  payload: Type.Object({ orderId: Uuid(), reservationId: Uuid() }),
})
export type StockReleased = EventPayload<typeof stockReleased>

export const productChanged = defineEvent({
  type: 'catalog.product.changed.v1',
  producer: 'catalog',
  description:
    'A product was created or changed (price, name, stock); for read models. Apply only a higher version.',
  payload: Type.Object({
    productId: Uuid(),
    sku: Type.String({ minLength: 1 }),
    name: Type.String({ minLength: 1 }),
    price: Money,
    available: Type.Integer({ minimum: 0 }),
    version: Type.Integer({ minimum: 1, description: 'Grows with every change of the product.' }),
  }),
})
export type ProductChanged = EventPayload<typeof productChanged>

export const catalogEvents = [
  stockReserved,
  stockReservationFailed,
  stockReleased,
  productChanged,
] as const

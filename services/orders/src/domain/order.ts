import type { Money } from '@microshop/contracts/money'

export type { Money }

/** orderStatuses are what a customer sees: PENDING until the saga settles it one way or another. */
export const orderStatuses = ['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED'] as const
export type OrderStatus = (typeof orderStatuses)[number]

/** SagaStep says what a PENDING order waits for; a settled order has none. */
export type SagaStep = 'awaiting_stock' | 'awaiting_payment'

/** StatusChange is one entry of an order's story: a status, when, and why. */
export interface StatusChange {
  status: OrderStatus
  at: string
  reason: string | null
}

/** OrderLine is one product of an order, priced when the order was placed. */
export interface OrderLine {
  productId: string
  sku: string
  name: string
  unitPrice: Money
  quantity: number
  lineTotal: Money
}

/** Order is an order as its owner sees it. */
export interface Order {
  id: string
  userId: string
  status: OrderStatus
  items: OrderLine[]
  total: Money
  paymentId: string | null
  statusHistory: StatusChange[]
  createdAt: string
  updatedAt: string
}

/**
 * SagaOrder is what the checkout saga reads and changes of an order: its status and step, the
 * step's deadline, and what the next step needs (the total, the payment method token).
 */
export interface SagaOrder {
  id: string
  userId: string
  status: OrderStatus
  step: SagaStep | null
  stepDeadline: Date | null
  total: Money
  paymentMethod: string
  paymentId: string | null
  reservationId: string | null
  /** placedAt is when the order was placed: a settled saga's duration counts from it. */
  placedAt: Date
  /** stepStartedAt is when the order last changed: while PENDING, when its step began. */
  stepStartedAt: Date
}

/** OrderRecord is all that is stored of an order: what its owner sees, and the saga's state. */
export interface OrderRecord {
  order: Order
  saga: SagaOrder
}

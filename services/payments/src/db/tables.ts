import type { Generated, Selectable } from 'kysely'
import type { FailureReason, PaymentStatus } from '../domain/payment.ts'

// Table types mirror migrations/*.sql in camelCase (Kysely's CamelCasePlugin maps
// the names); the suites on both database kinds catch any drift.

export interface PaymentsTable {
  id: string
  orderId: string
  userId: string
  amount: number
  currency: string
  paymentMethod: string | null
  status: PaymentStatus
  failureReason: FailureReason | null
  chargeOutstanding: boolean
  chargeId: string | null
  refundId: string | null
  orderClosedAt: Date | null
  createdAt: Date
  updatedAt: Date
  version: Generated<number>
}

export interface OrderClosuresTable {
  orderId: string
  closedBy: 'cancelled' | 'rejected'
  closedAt: Date
}

export interface PaymentsTables {
  payments: PaymentsTable
  orderClosures: OrderClosuresTable
}

export type PaymentRow = Selectable<PaymentsTable>

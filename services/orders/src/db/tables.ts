import type { ColumnType, Generated } from 'kysely'
import type { OrderStatus, SagaStep, StatusChange } from '../domain/order.ts'

// Table types mirror migrations/*.sql in camelCase (Kysely's CamelCasePlugin maps the names);
// the HTTP and saga suites on both database kinds catch any drift.

export interface OrdersTable {
  id: string
  userId: string
  status: OrderStatus
  sagaStep: SagaStep | null
  stepDeadline: Date | null
  totalAmount: number
  currency: string
  paymentMethod: string
  paymentId: string | null
  reservationId: string | null
  /** statusHistory is read as parsed JSON and written as JSON text (or an expression appending to it). */
  statusHistory: ColumnType<StatusChange[], string, string>
  createdAt: Date
  updatedAt: Date
  version: Generated<number>
}

export interface OrderLinesTable {
  orderId: string
  lineNo: number
  productId: string
  sku: string
  name: string
  unitPriceAmount: number
  quantity: number
}

export interface CatalogProductsTable {
  id: string
  sku: string
  name: string
  priceAmount: number
  currency: string
  version: number
  updatedAt: Generated<Date>
}

export interface IdempotencyKeysTable {
  userId: string
  key: string
  requestHash: string
  orderId: string
  responseStatus: number
  responseBody: ColumnType<unknown, string, never>
  createdAt: Generated<Date>
}

export interface OrdersTables {
  orders: OrdersTable
  orderLines: OrderLinesTable
  catalogProducts: CatalogProductsTable
  idempotencyKeys: IdempotencyKeysTable
}

import type { Generated, Selectable } from 'kysely'

/** ProductsTable mirrors migrations/0001_products.sql (camelCase via Kysely's CamelCasePlugin). */
export interface ProductsTable {
  id: string
  sku: string
  name: string
  description: string
  priceAmount: number
  currency: string
  stockOnHand: number
  stockReserved: number
  version: Generated<number>
  createdAt: Generated<Date>
  updatedAt: Generated<Date>
}

export interface CatalogTables {
  products: ProductsTable
  stockReservations: StockReservationsTable
  stockReservationLines: StockReservationLinesTable
}

export type ProductRow = Selectable<ProductsTable>

export type ReservationStatus =
  'HELD' | 'COMMITTED' | 'RELEASED' | 'EXPIRED' | 'FAILED' | 'RESTOCKED'

export interface StockReservationsTable {
  id: string
  orderId: string
  status: ReservationStatus
  expiresAt: Date
  createdAt: Generated<Date>
  updatedAt: Generated<Date>
}

export interface StockReservationLinesTable {
  reservationId: string
  productId: string
  quantity: number
}

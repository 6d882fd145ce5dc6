import type { Generated } from 'kysely'
import type { ProductRecord, ReservationStatus } from '../domain/catalog-context.ts'

/**
 * ProductsTable mirrors migrations/0001_products.sql (camelCase via Kysely's CamelCasePlugin): a
 * ProductRecord whose version and times the database fills in.
 */
export interface ProductsTable extends Omit<ProductRecord, 'version' | 'createdAt' | 'updatedAt'> {
  version: Generated<number>
  createdAt: Generated<Date>
  updatedAt: Generated<Date>
}

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

export interface CatalogTables {
  products: ProductsTable
  stockReservations: StockReservationsTable
  stockReservationLines: StockReservationLinesTable
}

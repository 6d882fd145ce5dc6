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
}

export type ProductRow = Selectable<ProductsTable>

import type { ProductRow } from '../db/tables.ts'

export interface Money {
  amount: number
  currency: string
}

/** Product is what the shop shows: its price, and how many can still be ordered. */
export interface Product {
  id: string
  sku: string
  name: string
  description: string
  price: Money
  stock: { available: number }
  createdAt: string
  updatedAt: string
}

export function productFromRow(row: ProductRow): Product {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    price: { amount: row.priceAmount, currency: row.currency },
    stock: { available: row.stockOnHand - row.stockReserved },
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}

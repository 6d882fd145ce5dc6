import type { Money } from '@microshop/contracts/money'
import type { ProductRecord } from './catalog-context.ts'

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

export function productFromRecord(record: ProductRecord): Product {
  return {
    id: record.id,
    sku: record.sku,
    name: record.name,
    description: record.description,
    price: { amount: record.priceAmount, currency: record.currency },
    stock: { available: record.stockOnHand - record.stockReserved },
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  }
}

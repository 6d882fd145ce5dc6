import { randomUUID } from 'node:crypto'
import type { Kysely, Transaction } from 'kysely'
import { productChanged } from '@microshop/contracts/catalog-events'
import { conflict, notFound } from '@microshop/platform/errors'
import { addToOutbox } from '@microshop/platform/events/outbox'
import { newEvent } from '@microshop/platform/events/new-event'
import { insertProduct, lockProduct, saveProduct, skuTaken } from '../db/product-repository.ts'
import type { CatalogTables, ProductRow } from '../db/tables.ts'
import { productFromRow, type Money, type Product } from './product.ts'

export interface NewProduct {
  sku: string
  name: string
  description?: string | undefined
  price: Money
  /** stock is the quantity on hand. */
  stock: number
}

export type ProductChanges = Partial<NewProduct>

/**
 * createProduct adds a product and announces it (`product.changed`, for read models such as
 * orders' prices); a sku already in use, in any letter case, is a conflict.
 */
export async function createProduct(
  db: Kysely<CatalogTables>,
  input: NewProduct,
  traceparent?: string,
): Promise<Product> {
  return db.transaction().execute(async (trx) => {
    const row = await insertProduct(trx, {
      id: randomUUID(),
      sku: input.sku,
      name: input.name,
      description: input.description ?? '',
      priceAmount: input.price.amount,
      currency: input.price.currency,
      stockOnHand: input.stock,
    })
    if (!row) throw conflict(`A product with sku ${input.sku} already exists.`)
    await announce(trx, row, traceparent)
    return productFromRow(row)
  })
}

/**
 * updateProduct changes any of a product's fields and announces the change. Stock on hand
 * cannot drop below what is reserved for pending orders: that would sell what was promised.
 */
export async function updateProduct(
  db: Kysely<CatalogTables>,
  id: string,
  changes: ProductChanges,
  traceparent?: string,
): Promise<Product> {
  return db.transaction().execute(async (trx) => {
    const current = await lockProduct(trx, id)
    if (!current) throw notFound(`No product with id ${id}.`)
    if (changes.sku !== undefined && (await skuTaken(trx, changes.sku, id))) {
      throw conflict(`A product with sku ${changes.sku} already exists.`)
    }
    if (changes.stock !== undefined && changes.stock < current.stockReserved) {
      throw conflict(
        `Stock cannot go below the ${current.stockReserved} units reserved for pending orders.`,
      )
    }
    const row = await saveProduct(trx, id, {
      sku: changes.sku,
      name: changes.name,
      description: changes.description,
      priceAmount: changes.price?.amount,
      currency: changes.price?.currency,
      stockOnHand: changes.stock,
    })
    await announce(trx, row, traceparent)
    return productFromRow(row)
  })
}

async function announce(trx: Transaction<CatalogTables>, row: ProductRow, traceparent?: string) {
  await addToOutbox(
    trx,
    newEvent(
      productChanged,
      {
        productId: row.id,
        sku: row.sku,
        name: row.name,
        price: { amount: row.priceAmount, currency: row.currency },
        available: row.stockOnHand - row.stockReserved,
        version: row.version,
      },
      { source: '/catalog', subject: row.id, traceparent },
    ),
  )
}

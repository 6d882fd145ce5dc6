import { randomUUID } from 'node:crypto'
import { productChanged } from '@microshop/contracts/catalog-events'
import type { Money } from '@microshop/contracts/money'
import type { InTransaction } from '@microshop/platform/db/store'
import { conflict, notFound } from '@microshop/platform/errors'
import { newEvent } from '@microshop/platform/events/new-event'
import type { CatalogContext, CatalogRepositories, ProductRecord } from './catalog-context.ts'
import { productFromRecord, type Product } from './product.ts'

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
  ctx: CatalogContext,
  input: NewProduct,
  traceparent?: string,
): Promise<Product> {
  return ctx.store.transaction(async (tx) => {
    const product = await addProduct(tx, input, traceparent)
    if (!product) throw conflict(`A product with sku ${input.sku} already exists.`)
    return product
  })
}

/**
 * addProduct adds a product and announces it in the caller's transaction, or gives undefined
 * when its sku is taken in any letter case. A sku being added by a transaction not yet committed
 * waits for it, so two transactions adding the same sku never both succeed.
 */
export async function addProduct(
  tx: InTransaction<CatalogRepositories>,
  input: NewProduct,
  traceparent?: string,
): Promise<Product | undefined> {
  const record = await tx.products.insert({
    id: randomUUID(),
    sku: input.sku,
    name: input.name,
    description: input.description ?? '',
    priceAmount: input.price.amount,
    currency: input.price.currency,
    stockOnHand: input.stock,
  })
  if (!record) return undefined
  await announce(tx, record, traceparent)
  return productFromRecord(record)
}

/**
 * updateProduct changes any of a product's fields and announces the change. Stock on hand
 * cannot drop below what is reserved for pending orders: that would sell what was promised.
 */
export async function updateProduct(
  ctx: CatalogContext,
  id: string,
  changes: ProductChanges,
  traceparent?: string,
): Promise<Product> {
  return ctx.store.transaction(async (tx) => {
    const current = await tx.products.lock(id)
    if (!current) throw notFound(`No product with id ${id}.`)
    if (changes.sku !== undefined && (await tx.products.skuTaken(changes.sku, id))) {
      throw conflict(`A product with sku ${changes.sku} already exists.`)
    }
    if (changes.stock !== undefined && changes.stock < current.stockReserved) {
      throw conflict(
        `Stock cannot go below the ${current.stockReserved} units reserved for pending orders.`,
      )
    }
    const record = await tx.products.save(id, {
      ...(changes.sku === undefined ? {} : { sku: changes.sku }),
      ...(changes.name === undefined ? {} : { name: changes.name }),
      ...(changes.description === undefined ? {} : { description: changes.description }),
      ...(changes.price === undefined
        ? {}
        : { priceAmount: changes.price.amount, currency: changes.price.currency }),
      ...(changes.stock === undefined ? {} : { stockOnHand: changes.stock }),
    })
    await announce(tx, record, traceparent)
    return productFromRecord(record)
  })
}

async function announce(
  tx: InTransaction<CatalogRepositories>,
  record: ProductRecord,
  traceparent: string | undefined,
) {
  await tx.outbox.add(
    newEvent(
      productChanged,
      {
        productId: record.id,
        sku: record.sku,
        name: record.name,
        price: { amount: record.priceAmount, currency: record.currency },
        available: record.stockOnHand - record.stockReserved,
        version: record.version,
      },
      { subject: record.id, ...(traceparent === undefined ? {} : { traceparent }) },
    ),
  )
}

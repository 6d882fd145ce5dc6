import type { components } from './openapi-types.ts'

// The API's resources, by the names the OpenAPI document gives its schemas (components.schemas).
type Schemas = components['schemas']

export type Product = Schemas['Product']
export type ProductPage = Schemas['ProductPage']
export type NewProduct = Schemas['NewProduct']
export type Order = Schemas['Order']
export type OrderPage = Schemas['OrderPage']
export type OrderStatus = Schemas['OrderStatus']
export type Payment = Schemas['Payment']
export type PaymentMethod = Schemas['NewOrder']['paymentMethod']

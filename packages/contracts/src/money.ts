import Type, { type Static } from 'typebox'

/** Money is an amount in integer minor units (cents) and its ISO 4217 currency; never a float. */
export const Money = Type.Object({
  amount: Type.Integer({ minimum: 0, description: 'Integer minor units, e.g. cents.' }),
  currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. USD.' }),
})

export type Money = Static<typeof Money>

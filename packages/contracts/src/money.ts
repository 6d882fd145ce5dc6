import Type, { type Static } from 'typebox'

const CURRENCY_CODE = '^[A-Z]{3}$'

/**
 * moneySchema is the one schema of an amount of money: integer minor units (cents) and an ISO
 * 4217 currency, never a float. Inputs narrow it: `maxAmount` bounds the amount, `currency`
 * allows only that one (the catalogue prices in the shop's currency). `title` names it in the
 * OpenAPI documents (`Money`; a narrowed one needs a name of its own).
 */
export function moneySchema(
  options: { maxAmount?: number; currency?: string; title?: string } = {},
) {
  return Type.Object(
    {
      amount: Type.Integer({
        minimum: 0,
        ...(options.maxAmount === undefined ? {} : { maximum: options.maxAmount }),
        description: 'Integer minor units, e.g. cents.',
      }),
      currency: Type.String(
        options.currency === undefined
          ? { pattern: CURRENCY_CODE, description: 'ISO 4217 code, e.g. USD.' }
          : { enum: [options.currency], description: `ISO 4217 code: ${options.currency}.` },
      ),
    },
    {
      additionalProperties: false,
      title: options.title ?? 'Money',
      description: 'An amount of money in integer minor units (cents), never a float.',
    },
  )
}

/** Money is an amount in integer minor units (cents) and its ISO 4217 currency; never a float. */
export const Money = moneySchema()

export type Money = Static<typeof Money>

/** Money is an amount in the currency's minor units (cents), as the API sends it: never a float. */
export interface Money {
  amount: number
  currency: string
}

const formats = new Map<string, Intl.NumberFormat>()

function formatOf(currency: string): Intl.NumberFormat {
  let format = formats.get(currency)
  if (!format) {
    format = new Intl.NumberFormat('en-US', { style: 'currency', currency })
    formats.set(currency, format)
  }
  return format
}

/** minorDigits is how many minor-unit digits a currency has: 2 for USD, 0 for JPY. */
export function minorDigits(currency: string): number {
  return formatOf(currency).resolvedOptions().maximumFractionDigits ?? 2
}

/**
 * decimalString writes minor units as an exact decimal ("1899" USD is "18.99") with integer
 * arithmetic only, so no binary fraction ever rounds a price.
 */
export function decimalString(money: Money): string {
  const digits = minorDigits(money.currency)
  const sign = money.amount < 0 ? '-' : ''
  const units = String(Math.abs(money.amount)).padStart(digits + 1, '0')
  if (digits === 0) return sign + units
  return `${sign}${units.slice(0, -digits)}.${units.slice(-digits)}`
}

/** formatMoney is the price as a shopper reads it: "$18.99". Intl formats the exact decimal string. */
export function formatMoney(money: Money): string {
  return formatOf(money.currency).format(decimalString(money) as Intl.StringNumericLiteral)
}

/** sumMoney adds amounts of one currency; an empty sum is zero in the given currency. */
export function sumMoney(amounts: Money[], currency: string): Money {
  return { amount: amounts.reduce((sum, money) => sum + money.amount, 0), currency }
}

/** timesQuantity is a line total: a unit price times a whole quantity. */
export function timesQuantity(unitPrice: Money, quantity: number): Money {
  return { amount: unitPrice.amount * quantity, currency: unitPrice.currency }
}

/**
 * parseMoney reads what a person typed ("18.99", "18", "1,299.5") into minor units, or undefined
 * when it is not a plain amount with at most the currency's minor digits.
 */
export function parseMoney(text: string, currency: string): Money | undefined {
  const digits = minorDigits(currency)
  const cleaned = text.trim().replace(/^\$/, '').replaceAll(',', '')
  const match = /^(\d{1,12})(?:\.(\d*))?$/.exec(cleaned)
  if (!match) return undefined
  const [, whole = '0', fraction = ''] = match
  if (fraction.length > digits) return undefined
  const amount = Number(whole + fraction.padEnd(digits, '0'))
  return Number.isSafeInteger(amount) ? { amount, currency } : undefined
}

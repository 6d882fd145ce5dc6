/** CartLine is a product and how many of it; prices are always read fresh from the catalogue. */
export interface CartLine {
  productId: string
  quantity: number
}

/** MAX_QUANTITY is the most of one product an order line may hold (the orders API's limit). */
export const MAX_QUANTITY = 100
/** MAX_LINES is the most lines an order may have. */
export const MAX_LINES = 50

/**
 * withAdded adds a quantity of a product, never past what is available (nor MAX_QUANTITY): the
 * result says how many were added, which may be fewer than asked, or none.
 */
export function withAdded(
  lines: CartLine[],
  productId: string,
  quantity: number,
  available: number,
): { lines: CartLine[]; added: number } {
  const current = lines.find((line) => line.productId === productId)?.quantity ?? 0
  const room = Math.max(0, Math.min(available, MAX_QUANTITY) - current)
  const added = Math.min(Math.max(0, Math.floor(quantity)), room)
  if (added === 0 || (current === 0 && lines.length >= MAX_LINES)) return { lines, added: 0 }
  if (current === 0) return { lines: [...lines, { productId, quantity: added }], added }
  return {
    lines: lines.map((line) =>
      line.productId === productId ? { ...line, quantity: current + added } : line,
    ),
    added,
  }
}

/** withQuantity sets a line's quantity (1..MAX_QUANTITY); 0 or less removes it. */
export function withQuantity(lines: CartLine[], productId: string, quantity: number): CartLine[] {
  if (quantity <= 0) return lines.filter((line) => line.productId !== productId)
  const bounded = Math.min(Math.floor(quantity), MAX_QUANTITY)
  return lines.map((line) => (line.productId === productId ? { ...line, quantity: bounded } : line))
}

/** parseCartLines reads a stored cart, dropping anything that is not a line. */
export function parseCartLines(stored: string | null): CartLine[] {
  try {
    const value: unknown = JSON.parse(stored ?? '[]')
    if (!Array.isArray(value)) return []
    return value.filter(
      (line): line is CartLine =>
        typeof line === 'object' &&
        line !== null &&
        typeof (line as CartLine).productId === 'string' &&
        Number.isInteger((line as CartLine).quantity) &&
        (line as CartLine).quantity > 0,
    )
  } catch {
    return []
  }
}

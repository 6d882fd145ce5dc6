/** newIdempotencyKey makes a random UUID (v4), also where crypto.randomUUID is missing (plain http). */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/**
 * CheckoutAttempt keeps one Idempotency-Key per checkout attempt: the same while the order asked
 * for stays the same (a double click, a retry after a lost answer), a new one once it changes.
 */
export class CheckoutAttempt {
  private current: { body: string; key: string } | undefined

  keyFor(body: unknown): string {
    const text = JSON.stringify(body)
    if (this.current?.body !== text) this.current = { body: text, key: newIdempotencyKey() }
    return this.current.key
  }

  /** done forgets the key once its order exists, so the next checkout is a new attempt. */
  done() {
    this.current = undefined
  }
}

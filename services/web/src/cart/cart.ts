import { computed, signal } from '@preact/signals'
import { parseCartLines, withAdded, withQuantity, type CartLine } from './cart-lines.ts'

const STORAGE_KEY = 'microshop:cart'

/** cart is the shopper's cart, kept in this browser across reloads and shared by its tabs. */
export const cart = signal<CartLine[]>(parseCartLines(localStorage.getItem(STORAGE_KEY)))

/** cartCount is how many items the cart holds, for the header. */
export const cartCount = computed(() => cart.value.reduce((sum, line) => sum + line.quantity, 0))

function save(lines: CartLine[]) {
  cart.value = lines
  localStorage.setItem(STORAGE_KEY, JSON.stringify(lines))
}

window.addEventListener('storage', (event) => {
  if (event.key === STORAGE_KEY) cart.value = parseCartLines(event.newValue)
})

/** addToCart adds up to quantity of a product, bounded by its stock; returns how many went in. */
export function addToCart(productId: string, quantity: number, available: number): number {
  const { lines, added } = withAdded(cart.value, productId, quantity, available)
  if (added > 0) save(lines)
  return added
}

export function setCartQuantity(productId: string, quantity: number) {
  save(withQuantity(cart.value, productId, quantity))
}

export function removeFromCart(productId: string) {
  save(withQuantity(cart.value, productId, 0))
}

export function emptyCart() {
  save([])
}

export function quantityInCart(productId: string): number {
  return cart.value.find((line) => line.productId === productId)?.quantity ?? 0
}

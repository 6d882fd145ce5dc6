import type { OrderStatus } from '../api/resources.ts'
import { STATUS_WORDS } from '../order-words.ts'

export function StatusBadge({ status }: { status: OrderStatus }) {
  return <span class={`badge badge-${status.toLowerCase()}`}>{STATUS_WORDS[status]}</span>
}

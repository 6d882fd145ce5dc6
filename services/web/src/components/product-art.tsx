/** ProductArt is a product's picture stand-in: its initials on a colour of its own (decorative). */
export function ProductArt({ sku, name }: { sku: string; name: string }) {
  let hash = 0
  for (const char of sku) hash = (hash * 31 + char.charCodeAt(0)) >>> 0
  const initials = name
    .split(/\s+/)
    .filter((word) => /^[A-Za-z0-9]/.test(word))
    .slice(0, 2)
    .map((word) => word[0]?.toUpperCase())
    .join('')
  return (
    <div class="product-art" aria-hidden="true" style={{ '--hue': String(hash % 360) }}>
      {initials}
    </div>
  )
}

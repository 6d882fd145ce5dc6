import type { CatalogContext } from './catalog-context.ts'
import { demoCatalogue } from './demo-catalogue.ts'
import { createProduct } from './manage-products.ts'

/**
 * seedDemoCatalogue loads the demo catalogue into an empty catalogue and returns how many
 * products it added; a catalogue with any product in it is left as it is.
 */
export async function seedDemoCatalogue(ctx: CatalogContext): Promise<number> {
  if ((await ctx.store.products.count()) > 0) return 0
  for (const product of demoCatalogue) await createProduct(ctx, product)
  return demoCatalogue.length
}

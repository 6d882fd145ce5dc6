import type { CatalogContext } from './catalog-context.ts'
import { demoCatalogue } from './demo-catalogue.ts'
import { addProduct } from './manage-products.ts'

/**
 * seedDemoCatalogue loads the demo catalogue into an empty catalogue and returns how many
 * products it added; a catalogue with any product in it is left as it is. It is one transaction,
 * so replicas that start at once on an empty database load it once between them: the later ones
 * wait on the first one's skus and then add none.
 */
export async function seedDemoCatalogue(ctx: CatalogContext): Promise<number> {
  return ctx.store.transaction(async (tx) => {
    if ((await tx.products.count()) > 0) return 0
    let added = 0
    for (const product of demoCatalogue) if (await addProduct(tx, product)) added++
    return added
  })
}

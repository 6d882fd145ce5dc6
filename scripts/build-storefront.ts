// build-storefront.ts (`npm run build:web`): builds the storefront now if it is missing or stale.
import { ensureStorefrontBuilt } from './storefront-build.ts'

const { built, ms } = await ensureStorefrontBuilt()
console.log(
  built
    ? `built services/web/dist in ${Math.round(ms)} ms`
    : 'services/web/dist is up to date with its sources',
)

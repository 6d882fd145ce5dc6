import { runServiceProcess } from '@microshop/platform/service-process'
import { loadCatalogConfig } from './config.ts'
import { startCatalogService } from './service.ts'

await runServiceProcess('catalog', loadCatalogConfig, startCatalogService)

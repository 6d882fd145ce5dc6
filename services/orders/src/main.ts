import { runServiceProcess } from '@microshop/platform/service-process'
import { loadOrdersConfig } from './config.ts'
import { startOrdersService } from './service.ts'

await runServiceProcess('orders', loadOrdersConfig, startOrdersService)

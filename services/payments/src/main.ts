import { runServiceProcess } from '@microshop/platform/service-process'
import { loadPaymentsConfig } from './config.ts'
import { startPaymentsService } from './service.ts'

await runServiceProcess('payments', loadPaymentsConfig, startPaymentsService)

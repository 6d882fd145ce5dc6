import { runServiceProcess } from '@microshop/platform/service-process'
import { loadGatewayConfig } from './config.ts'
import { startGatewayService } from './service.ts'

await runServiceProcess('gateway', loadGatewayConfig, startGatewayService)

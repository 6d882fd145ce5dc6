import { runServiceProcess } from '@microshop/platform/service-process'
import { loadUsersConfig } from './config.ts'
import { startUsersService } from './service.ts'

await runServiceProcess('users', loadUsersConfig, startUsersService)

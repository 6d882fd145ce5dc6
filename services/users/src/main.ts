import { ConfigError } from '@microshop/platform/config'
import { createLogger } from '@microshop/platform/logger'
import { closeOnSignals } from '@microshop/platform/shutdown'
import { loadUsersConfig, type UsersConfig } from './config.ts'
import { startUsersService } from './service.ts'

let config: UsersConfig
try {
  config = loadUsersConfig()
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  createLogger({ service: 'users', level: 'info' }).fatal(
    { problems: error.problems },
    'invalid configuration',
  )
  process.exit(1)
}

const logger = createLogger({ service: 'users', level: config.LOG_LEVEL })
try {
  const service = await startUsersService(config, { logger })
  closeOnSignals(logger, config.SHUTDOWN_TIMEOUT_MS, service.close)
} catch (error) {
  logger.fatal({ err: error }, 'users service failed to start')
  process.exit(1)
}

import { ConfigError } from './config.ts'
import { LOAD_ONLY } from './load-only.ts'
import { createLogger, type Logger } from './logger.ts'
import { closeOnSignals } from './shutdown.ts'
import { releaseStartUpMemoryLater } from './start-up-memory.ts'
import { startTelemetry } from './telemetry.ts'

interface ProcessSettings {
  LOG_LEVEL: string
  HOST: string
  PORT: number
  SHUTDOWN_TIMEOUT_MS: number
}

/**
 * runServiceProcess is a service's `main`: start OpenTelemetry from the OTEL_* settings, parse
 * its settings (exit 1 listing every problem), start it, and close it cleanly on SIGTERM or
 * SIGINT (exit 0), the spans still buffered exported last. Soon after it listens, it gives back the
 * memory that starting took (start-up-memory.ts).
 *
 * With `--load-only` (`node dist/main.js --load-only`) the process loads the service's code and
 * exits 0, starting nothing: what filling Node's compile cache (NODE_COMPILE_CACHE) needs, when
 * an image or `npm run build` compiles a bundle once so that no start compiles it again.
 */
export async function runServiceProcess<Config extends ProcessSettings>(
  service: string,
  loadConfig: () => Config,
  start: (config: Config, deps: { logger: Logger }) => Promise<{ close: () => Promise<void> }>,
): Promise<void> {
  if (process.argv.includes(LOAD_ONLY)) return
  const telemetry = startTelemetry({ serviceName: service, env: process.env })
  let config: Config
  try {
    config = loadConfig()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    createLogger({ service, level: 'info' }).fatal(
      { problems: error.problems },
      'invalid configuration',
    )
    process.exit(1)
  }
  const logger = createLogger({ service, level: config.LOG_LEVEL })
  try {
    const running = await start(config, { logger })
    closeOnSignals(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
      await running.close()
      await telemetry.shutdown().catch(() => undefined)
    })
    logger.info({ host: config.HOST, port: config.PORT }, `${service} service listening`)
    releaseStartUpMemoryLater()
  } catch (error) {
    logger.fatal({ err: error }, `${service} service failed to start`)
    process.exit(1)
  }
}

import { pino, type Logger, type LoggerOptions } from 'pino'

export type { Logger }

/**
 * createLogger gives a service its JSON logger: one line per event, ISO times, the service
 * name on every line, and secrets redacted wherever they appear in a logged object.
 */
export function createLogger(options: { service: string; level: string }): Logger {
  return pino(loggerOptions(options))
}

export function loggerOptions(options: { service: string; level: string }): LoggerOptions {
  return {
    level: options.level,
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: [
        'password',
        '*.password',
        'refreshToken',
        '*.refreshToken',
        'accessToken',
        '*.accessToken',
        'paymentMethod',
        '*.paymentMethod',
        'req.headers.authorization',
        'req.headers.cookie',
      ],
      censor: '[redacted]',
    },
  }
}

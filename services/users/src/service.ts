import { fileURLToPath } from 'node:url'
import type { Kysely } from 'kysely'
import { createAccessTokenVerifier } from '@microshop/platform/auth/access-token-verifier'
import { createBearerAuth } from '@microshop/platform/auth/bearer-auth'
import { openServiceDatabase } from '@microshop/platform/db/database'
import { migrate } from '@microshop/platform/db/migrate'
import { createHttpApp, type HttpApp } from '@microshop/platform/http/app'
import { registerHealthRoutes } from '@microshop/platform/http/health'
import { createLogger, type Logger } from '@microshop/platform/logger'
import { createMetrics, type Metrics } from '@microshop/platform/metrics'
import type { UsersConfig } from './config.ts'
import { loginThrottlesRepository } from './db/login-throttles-repository.ts'
import { sessionsRepository } from './db/sessions-repository.ts'
import type { UsersDatabase } from './db/tables.ts'
import { usersRepository } from './db/users-repository.ts'
import type { Accounts } from './domain/accounts.ts'
import { ensureAdmin } from './domain/ensure-admin.ts'
import { forgetStaleRecords } from './domain/forget-stale-records.ts'
import { createPasswords } from './domain/passwords.ts'
import { createTokenIssuer } from './domain/tokens.ts'
import { registerAuthRoutes } from './http/auth-routes.ts'
import { registerUserRoutes } from './http/user-routes.ts'
import { loadSigningKeys, type SigningKeys } from './signing-keys.ts'

export interface UsersServiceDeps {
  logger?: Logger
  metrics?: Metrics
  /** now is the clock the use cases read; tests move it to expire sessions and throttles. */
  now?: () => Date
}

export interface UsersService {
  app: HttpApp
  close: () => Promise<void>
}

const PRUNE_INTERVAL_MS = 60 * 60 * 1000

/**
 * startUsersService runs the users service: its database (Postgres at DATABASE_URL, else PGlite
 * in `<DATA_DIR>/users/pg`) with migrations applied, its signing keys, the configured admin, and
 * its HTTP API listening on HOST:PORT. close() stops taking requests, finishes the ones in
 * flight, then closes the database.
 */
export async function startUsersService(
  config: UsersConfig,
  deps: UsersServiceDeps = {},
): Promise<UsersService> {
  const logger = deps.logger ?? createLogger({ service: 'users', level: config.LOG_LEVEL })
  const signingKeys = await loadSigningKeys(config)
  const database = await openServiceDatabase<UsersDatabase>('users', config)
  let app: HttpApp | undefined
  let pruning: NodeJS.Timeout | undefined
  let pruningRun: Promise<void> = Promise.resolve()
  const close = async () => {
    clearInterval(pruning)
    await app?.close()
    await pruningRun
    await database.close()
  }
  try {
    await migrate(database, [
      { name: 'users', directory: fileURLToPath(new URL('../migrations', import.meta.url)) },
    ])
    const accounts = await createAccounts(database.db, config, signingKeys, logger, deps.now)
    if (config.ADMIN_EMAIL !== undefined && config.ADMIN_PASSWORD !== undefined) {
      const admin = await ensureAdmin(accounts, {
        email: config.ADMIN_EMAIL,
        password: config.ADMIN_PASSWORD,
      })
      logger.info({ userId: admin.id }, 'admin account ready')
    }

    app = await createHttpApp({
      service: 'users',
      logger,
      metrics: deps.metrics ?? createMetrics('users'),
      openapi: {
        title: 'microshop users',
        description: 'Accounts, sign-in, access and refresh tokens, and the keys to verify them.',
      },
    })
    registerHealthRoutes(app, { database: () => database.ping() })
    registerAuthRoutes(app, accounts, signingKeys.jwks)
    // The service checks its own tokens with its own keys: no HTTP round trip to itself.
    const verifier = createAccessTokenVerifier({
      keySet: signingKeys.jwks,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
    })
    registerUserRoutes(app, accounts, createBearerAuth(verifier))

    pruning = setInterval(() => {
      pruningRun = forgetStaleRecords(accounts).then(
        (forgotten) => logger.debug(forgotten, 'stale sessions and throttles pruned'),
        (error: unknown) => logger.warn({ err: error }, 'pruning stale records failed'),
      )
    }, PRUNE_INTERVAL_MS).unref()

    await app.listen({ host: config.HOST, port: config.PORT })
    return { app, close }
  } catch (error) {
    await close()
    throw error
  }
}

/** createAccounts gathers what the use cases need from the service's database and settings. */
export async function createAccounts(
  db: Kysely<UsersDatabase>,
  config: UsersConfig,
  signingKeys: SigningKeys,
  logger: Logger,
  now: () => Date = () => new Date(),
): Promise<Accounts> {
  return {
    users: usersRepository(db),
    sessions: sessionsRepository(db),
    loginThrottles: loginThrottlesRepository(db),
    passwords: await createPasswords(),
    tokens: createTokenIssuer(signingKeys.active, {
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
    }),
    loginThrottle: {
      freeAttempts: config.LOGIN_THROTTLE_FREE_ATTEMPTS,
      baseDelaySeconds: config.LOGIN_THROTTLE_BASE_DELAY_SECONDS,
      maxDelaySeconds: config.LOGIN_THROTTLE_MAX_DELAY_SECONDS,
    },
    logger,
    now,
  }
}

import { createAccessTokenVerifier } from '@microshop/platform/auth/access-token-verifier'
import { createBearerAuth } from '@microshop/platform/auth/bearer-auth'
import type { Database } from '@microshop/platform/db/database'
import { createStore } from '@microshop/platform/db/store'
import type { Logger } from '@microshop/platform/logger'
import { startBackendService } from '@microshop/platform/backend-runtime'
import type { ServiceDeps } from '@microshop/platform/service-runtime'
import type { UsersConfig } from './config.ts'
import type { UsersTables } from './db/tables.ts'
import { usersRepositories } from './db/users-repositories.ts'
import { ensureAdmin } from './domain/ensure-admin.ts'
import { forgetStaleRecords } from './domain/forget-stale-records.ts'
import { createPasswords } from './domain/passwords.ts'
import { createTokenIssuer } from './domain/tokens.ts'
import type { UsersContext } from './domain/users-context.ts'
import { registerAuthRoutes } from './http/auth-routes.ts'
import { registerUserRoutes } from './http/user-routes.ts'
import { loadSigningKeys, type SigningKeys } from './signing-keys.ts'

const PRUNE_INTERVAL_MS = 3_600_000

/**
 * startUsersService runs users: accounts, sign-in, tokens and the keys to verify them. It signs
 * with its own keys (from the settings, else generated into DATA_DIR), makes the configured
 * admin, and forgets stale sessions and throttles every hour.
 */
export function startUsersService(config: UsersConfig, deps: ServiceDeps = {}) {
  return startBackendService('users', config, deps, async (runtime) => {
    const signingKeys = await loadSigningKeys(config)
    const database = await runtime.openDatabase<UsersTables>({
      migrations: new URL('../migrations', import.meta.url),
      events: false,
    })
    const ctx = await createUsersContext(database, config, signingKeys, runtime.logger, runtime.now)
    if (config.ADMIN_EMAIL !== undefined && config.ADMIN_PASSWORD !== undefined) {
      const admin = await ensureAdmin(ctx, {
        email: config.ADMIN_EMAIL,
        password: config.ADMIN_PASSWORD,
      })
      runtime.logger.info({ userId: admin.id }, 'admin account ready')
    }
    runtime.startJob({
      name: 'forget-stale-records',
      intervalMs: PRUNE_INTERVAL_MS,
      firstRunAfterMs: PRUNE_INTERVAL_MS,
      run: async () => {
        runtime.logger.debug(await forgetStaleRecords(ctx), 'stale sessions and throttles pruned')
        return { more: false }
      },
    })
    const app = await runtime.createHttpApp({
      openapi: {
        title: 'microshop users',
        description: 'Accounts, sign-in, access and refresh tokens, and the keys to verify them.',
        tags: [
          { name: 'auth', description: 'Sign-up, sign-in, tokens and the keys that verify them.' },
          { name: 'users', description: 'The signed-in account.' },
        ],
      },
    })
    registerAuthRoutes(app, ctx, signingKeys.jwks)
    // The service checks its own tokens with its own keys: no HTTP round trip to itself.
    const verifier = createAccessTokenVerifier({
      keySet: signingKeys.jwks,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
    })
    registerUserRoutes(app, ctx, createBearerAuth(verifier))
    return { app }
  })
}

export type UsersService = Awaited<ReturnType<typeof startUsersService>>

/** createUsersContext gathers what the account use cases need from the database and settings. */
export async function createUsersContext(
  database: Database<UsersTables>,
  config: UsersConfig,
  signingKeys: SigningKeys,
  logger: Logger,
  now: () => Date = () => new Date(),
): Promise<UsersContext> {
  return {
    store: createStore(database, usersRepositories),
    passwords: createPasswords(),
    tokens: createTokenIssuer(signingKeys.active, {
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
    }),
    settings: {
      loginThrottle: {
        freeAttempts: config.LOGIN_THROTTLE_FREE_ATTEMPTS,
        baseDelaySeconds: config.LOGIN_THROTTLE_BASE_DELAY_SECONDS,
        maxDelaySeconds: config.LOGIN_THROTTLE_MAX_DELAY_SECONDS,
        emailFailuresUnderAttack: config.LOGIN_THROTTLE_EMAIL_FAILURES,
      },
    },
    logger,
    now,
  }
}

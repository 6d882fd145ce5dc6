import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAccessTokenVerifier } from '@microshop/platform/auth/access-token-verifier'
import { loadUsersConfig } from './config.ts'
import { startUsersService, type UsersService } from './service.ts'

interface TokenPairBody {
  accessToken: string
  refreshToken: string
}

const admin = { email: 'admin@example.com', password: 'admin password' }

describe('startUsersService in embedded mode', () => {
  let dataDir: string
  let service: UsersService | undefined
  const start = () =>
    startUsersService(
      loadUsersConfig({
        DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'silent',
        ADMIN_EMAIL: admin.email,
        ADMIN_PASSWORD: admin.password,
      }),
    )

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'users-service-'))
  })
  afterAll(async () => {
    await service?.close()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('when restarted on the same data folder, then accounts, tokens and sessions survive', async () => {
    service = await start()
    const signIn = await service.app.inject({ method: 'POST', url: '/auth/login', payload: admin })
    expect(signIn.statusCode).toBe(200)
    const pair = signIn.json<TokenPairBody>()
    expect((await service.app.inject({ url: '/health/ready' })).statusCode).toBe(200)
    await service.close()

    service = await start()
    const me = await service.app.inject({
      url: '/users/me',
      headers: { authorization: `Bearer ${pair.accessToken}` },
    })
    expect(me.statusCode).toBe(200)
    expect(me.json()).toMatchObject({ email: admin.email, role: 'admin' })
    const refreshed = await service.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      payload: { refreshToken: pair.refreshToken },
    })
    expect(refreshed.statusCode).toBe(200)
  })

  it('when another service fetches the JWKS over HTTP, then it verifies our access tokens', async () => {
    service ??= await start()
    const address = service.app.server.address()
    if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
    const baseUrl = `http://127.0.0.1:${address.port}`
    const signIn = await fetch(`${baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(admin),
    })
    const { accessToken } = (await signIn.json()) as TokenPairBody
    const verify = createAccessTokenVerifier({
      jwksUrl: `${baseUrl}/auth/jwks.json`,
      issuer: 'microshop',
      audience: 'microshop',
    })
    await expect(verify(accessToken)).resolves.toMatchObject({ role: 'admin' })
  })
})

describe('startUsersService with an admin email someone registered first', () => {
  it('when ADMIN_EMAIL names an account whose password is not ADMIN_PASSWORD, then the service does not start', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'users-preclaimed-'))
    const settings = { DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent' }
    try {
      const before = await startUsersService(loadUsersConfig(settings))
      const squat = await before.app.inject({
        method: 'POST',
        url: '/auth/register',
        payload: { email: 'Boss@Example.com', password: 'the squatter', name: 'Eve' },
      })
      expect(squat.statusCode).toBe(201)
      await before.close()

      await expect(
        startUsersService(
          loadUsersConfig({
            ...settings,
            ADMIN_EMAIL: 'boss@example.com',
            ADMIN_PASSWORD: 'the operator',
          }),
        ),
      ).rejects.toThrow(/ADMIN_EMAIL boss@example.com belongs to an account whose password/)

      const after = await startUsersService(loadUsersConfig(settings))
      const signIn = await after.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { email: 'boss@example.com', password: 'the squatter' },
      })
      const me = await after.app.inject({
        url: '/users/me',
        headers: { authorization: `Bearer ${signIn.json<TokenPairBody>().accessToken}` },
      })
      expect(me.json()).toMatchObject({ role: 'customer' })
      await after.close()
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})

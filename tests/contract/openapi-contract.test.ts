// The public API's contract, as the code serves it now: the checked-in document and storefront
// types are up to date, Redocly CLI (recommended rules) and Spectral (spectral:oas) find nothing
// in the merged document or in any service's own, and a client generated from the merged document
// (openapi-typescript + openapi-fetch, as the storefront uses) type-checks.
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import openapiTS, { astToString } from 'openapi-typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  renderedOpenapiFiles,
  servedOpenapiDocuments,
  type ServedOpenapiDocuments,
} from '../../scripts/openapi-documents.ts'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')
const bin = (name: string) => join(root, 'node_modules/.bin', name)
// Linters that phone home or look for updates are told not to.
const env = {
  ...process.env,
  REDOCLY_TELEMETRY: 'off',
  REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
  SCARF_ANALYTICS: 'false',
  NO_COLOR: '1',
}

let documents: ServedOpenapiDocuments
let dir: string
let files: { name: string; path: string; merged: boolean }[]

beforeAll(async () => {
  documents = await servedOpenapiDocuments()
  // Under node_modules/.cache, so the client program below resolves openapi-fetch as any
  // project of the repository does.
  await mkdir(join(root, 'node_modules/.cache'), { recursive: true })
  dir = await mkdtemp(join(root, 'node_modules/.cache/openapi-contract-'))
  files = [
    { name: 'merged', document: documents.merged },
    ...Object.entries(documents.services).map(([name, document]) => ({ name, document })),
  ].map(({ name }) => ({ name, path: join(dir, `${name}.json`), merged: name === 'merged' }))
  const byName: Record<string, unknown> = { merged: documents.merged, ...documents.services }
  for (const file of files) await writeFile(file.path, JSON.stringify(byName[file.name], null, 2))
})

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

/** lintOutcome runs a linter and keeps its output, whatever its exit code. */
async function lintOutcome(command: string, args: string[]) {
  try {
    const { stdout, stderr } = await run(command, args, { cwd: root, env, maxBuffer: 1 << 26 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string }
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' }
  }
}

describe('the OpenAPI contract', () => {
  it('when the API changes, then docs/openapi.json and the storefront types must be regenerated (npm run openapi)', async () => {
    for (const [path, expected] of Object.entries(await renderedOpenapiFiles(documents.merged))) {
      const actual = await readFile(path, 'utf8').catch(() => '')
      expect(actual, `${path} is stale: run npm run openapi`).toBe(expected)
    }
  })

  it('when Redocly lints every document with its recommended rules, then it finds no error and no warning', async () => {
    for (const file of files) {
      const config = file.merged
        ? join(root, 'redocly.yaml')
        : join(root, 'tests/contract/redocly-service.yaml')
      const outcome = await lintOutcome(bin('redocly'), [
        'lint',
        '--config',
        config,
        '--format',
        'json',
        file.path,
      ])
      const report = JSON.parse(outcome.stdout) as {
        totals: { errors: number; warnings: number }
        problems: { ruleId: string; message: string; location: { pointer: string }[] }[]
      }
      const found = report.problems.map(
        (problem) => `${problem.ruleId} at ${problem.location[0]?.pointer}: ${problem.message}`,
      )
      expect(found, `redocly on the ${file.name} document`).toEqual([])
      expect(report.totals).toMatchObject({ errors: 0, warnings: 0 })
      expect(outcome.code, outcome.stderr).toBe(0)
    }
  })

  it('when Spectral lints every document with spectral:oas, then it finds nothing of any severity', async () => {
    for (const file of files) {
      const outcome = await lintOutcome(bin('spectral'), [
        'lint',
        '--ruleset',
        join(root, '.spectral.yaml'),
        '--fail-severity',
        'hint',
        '--format',
        'json',
        '--quiet',
        file.path,
      ])
      const results = JSON.parse(outcome.stdout || '[]') as {
        code: string
        message: string
        path: string[]
      }[]
      const found = results.map((r) => `${r.code} at ${r.path.join('.')}: ${r.message}`)
      expect(found, `spectral on the ${file.name} document`).toEqual([])
      expect(outcome.code, outcome.stderr).toBe(0)
    }
  })

  it('when a client is generated from the merged document, then a program using it type-checks', async () => {
    const project = join(dir, 'client')
    await mkdir(project, { recursive: true })
    await writeFile(
      join(project, 'api.ts'),
      astToString(await openapiTS(documents.merged as never)),
    )
    await writeFile(join(project, 'checkout.ts'), CLIENT_PROGRAM)
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2023',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          allowImportingTsExtensions: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
          lib: ['es2023', 'dom'],
        },
        files: ['checkout.ts'],
      }),
    )
    await writeFile(join(project, 'package.json'), JSON.stringify({ type: 'module' }))
    const outcome = await lintOutcome(bin('tsc'), ['-p', join(project, 'tsconfig.json')])
    expect(outcome.stdout + outcome.stderr).toBe('')
    expect(outcome.code).toBe(0)
  })
})

// CLIENT_PROGRAM is a checkout as a client of the API writes it, against the generated types:
// named schemas, the Idempotency-Key header, problems as errors. The @ts-expect-error lines fail
// the check if the types grow loose enough to accept what the API refuses.
const CLIENT_PROGRAM = `import createClient from 'openapi-fetch'
import type { components, paths } from './api.ts'

type Schemas = components['schemas']

export async function checkout(email: string, password: string): Promise<Schemas['OrderStatus']> {
  const api = createClient<paths>({ baseUrl: 'http://localhost:8080' })
  const login = await api.POST('/api/auth/login', { body: { email, password } })
  if (login.error !== undefined) throw new Error(login.error.detail)
  const tokens: Schemas['TokenPair'] = login.data
  const headers = { authorization: \`\${tokens.tokenType} \${tokens.accessToken}\` }

  const page = await api.GET('/api/products', { params: { query: { limit: 5, q: 'mug' } } })
  const product: Schemas['Product'] | undefined = page.data?.items[0]
  if (product === undefined) throw new Error('no product')
  const price: Schemas['Money'] = product.price

  const placed = await api.POST('/api/orders', {
    headers,
    params: { header: { 'Idempotency-Key': 'checkout-1' } },
    body: { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'pm_card_visa' },
  })
  if (placed.error !== undefined) {
    const problem: Schemas['Problem'] = placed.error
    throw new Error(\`\${problem.status} \${problem.type}: \${problem.errors?.[0]?.pointer ?? ''}\`)
  }
  const order: Schemas['Order'] = placed.data
  const total: number = order.total.amount + price.amount * 0

  const got = await api.GET('/api/orders/{id}', { headers, params: { path: { id: order.id } } })
  const line: Schemas['OrderLine'] | undefined = got.data?.items[0]
  void line?.lineTotal.currency
  void total

  // @ts-expect-error prices come from the catalogue, never from the client
  const priced: Schemas['NewOrderLine'] = { productId: product.id, quantity: 1, unitPrice: price }
  void priced
  // @ts-expect-error there is no such operation
  await api.DELETE('/api/orders/{id}', { headers, params: { path: { id: order.id } } })
  return got.data?.status ?? order.status
}
`

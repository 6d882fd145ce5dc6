// scripts/compose-test.ts (`npm run test:compose`): the shop as `docker compose up --build` runs it,
// tested end to end. It builds the images, starts them as the compose project `microshop-ci`,
// waits until every container is healthy, prints the figures (build time, time to healthy, ready
// time and idle memory per container, image sizes), runs the suites in tests/compose against it
// (the end-to-end flows, and orders restarted in the middle of a batch of checkouts), checks that
// every container stops with exit 0, and always ends with `docker compose down -v`. It needs Docker
// with Compose v2, and the host's port 8080 for the gateway.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { composeProject, docker, run } from './compose-project.ts'

const projectName = 'microshop-ci'
const project = composeProject(projectName)

interface Result {
  name: string
  error?: string | undefined
}
const results: Result[] = []

/** step runs one of this script's own checks, recording and printing its result. */
async function step(name: string, work: () => Promise<void>): Promise<boolean> {
  const started = performance.now()
  const error = await work().then(
    () => undefined,
    (failure: unknown) => (failure instanceof Error ? failure.message : String(failure)),
  )
  results.push({ name, error })
  const took = `${((performance.now() - started) / 1000).toFixed(1)} s`
  console.log(`${error ? 'FAIL' : 'ok  '} ${name} (${took})${error ? `\n${error}` : ''}`)
  return error === undefined
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`

interface ComposeService {
  image?: string
  build?: { context: string; dockerfile: string }
}

/** builtServices are the services compose.yaml builds from a Dockerfile: the shop's own. */
async function builtServices(): Promise<[string, Required<ComposeService>][]> {
  const config = JSON.parse(await project.compose(['config', '--format', 'json'])) as {
    services: Record<string, ComposeService>
  }
  return Object.entries(config.services).flatMap(([name, service]) =>
    service.build && service.image ? [[name, service as Required<ComposeService>]] : [],
  )
}

async function printReadyTimes(services: string[]): Promise<void> {
  console.log('\nready after container start (first start: migrations, demo data, all at once):')
  for (const service of services) {
    const ready = await project.readyMs(service)
    console.log(
      `  ${service.padEnd(9)} ${ready === undefined ? 'no "listening" line' : `${ready} ms`}`,
    )
  }
}

async function printIdleMemory(): Promise<void> {
  const ids = (await project.compose(['ps', '-q'])).trim().split('\n')
  const format = 'table {{.Name}}\t{{.MemUsage}}\t{{.CPUPerc}}\t{{.PIDs}}'
  const stats = await docker(['stats', '--no-stream', '--format', format, ...ids])
  console.log(`\nidle memory per container (docker stats --no-stream):\n${stats.trimEnd()}`)
}

/**
 * printImageSizes prints each image's size, what it adds to its base (its last FROM) and the
 * Node version it runs, so a stale base image shows in the log.
 */
async function printImageSizes(services: [string, Required<ComposeService>][]): Promise<void> {
  console.log('\nimage sizes and Node versions:')
  for (const [name, { image, build }] of services) {
    const dockerfile = await readFile(join(build.context, build.dockerfile), 'utf8')
    const base = [...dockerfile.matchAll(/^FROM\s+(\S+)/gim)].at(-1)?.[1]
    if (!base) throw new Error(`${build.dockerfile} has no FROM`)
    const inspected = await docker(['image', 'inspect', '-f', '{{.Size}}', image, base])
    const [size = 0, baseSize = 0] = inspected.trim().split('\n').map(Number)
    const nodeVersion = (await docker(['run', '--rm', '--entrypoint', 'node', image, '-v'])).trim()
    console.log(
      `  ${name.padEnd(9)} ${image.padEnd(19)} ${megabytes(size).padStart(9)}, ` +
        `${megabytes(size - baseSize).padStart(8)} over ${base}, Node ${nodeVersion}`,
    )
  }
}

/** runSuites runs tests/compose against the project and records each test's result. */
async function runSuites(): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'compose-test-'))
  const report = join(folder, 'vitest.json')
  try {
    const ran = await run(
      'npx',
      [
        'vitest',
        'run',
        '--config=vitest.compose.config.ts',
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${report}`,
      ],
      { timeoutMs: 15 * 60_000, inherit: true, env: { COMPOSE_PROJECT_NAME: projectName } },
    )
    const json = await readFile(report, 'utf8').catch(() => undefined)
    const files = json
      ? (
          JSON.parse(json) as {
            testResults: {
              assertionResults: { fullName: string; status: string; failureMessages: string[] }[]
            }[]
          }
        ).testResults
      : []
    const tests = files.flatMap((file) => file.assertionResults)
    for (const test of tests) {
      if (test.status === 'passed') results.push({ name: test.fullName })
      if (test.status === 'failed') {
        results.push({ name: test.fullName, error: test.failureMessages.join('\n') })
      }
    }
    // A suite can fail outside its tests (a hook, an import): vitest's exit code says so.
    if (ran.code !== 0 && !tests.some((test) => test.status === 'failed')) {
      results.push({ name: 'the compose suites', error: `vitest exited ${ran.code}` })
    }
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
}

/** printDiagnosis shows, after a failure, each container's state and last log lines. */
async function printDiagnosis(): Promise<void> {
  const ps = await run('docker', ['compose', '-p', projectName, 'ps', '-a'], { timeoutMs: 30_000 })
  console.log(`\ncontainers:\n${ps.output.trimEnd()}`)
  const ids = await run('docker', ['compose', '-p', projectName, 'ps', '-aq'], {
    timeoutMs: 30_000,
  })
  for (const id of ids.output.split('\n').filter((line) => /^[0-9a-f]{12,}$/.test(line))) {
    const name = await run('docker', ['inspect', '-f', '{{.Name}}', id], { timeoutMs: 10_000 })
    const logs = await run('docker', ['logs', '--tail', '25', id], { timeoutMs: 30_000 })
    console.log(`--- ${name.output.trim().slice(1)}, last log lines:\n${logs.output.trimEnd()}`)
  }
}

async function down(): Promise<void> {
  await project.compose(['down', '-v', '--remove-orphans'], { timeoutMs: 120_000 })
}

async function main(): Promise<number> {
  const started = performance.now()
  console.log(`compose test: project ${projectName}`)
  try {
    await down() // what an interrupted run may have left
    const services = await builtServices()
    const names = services.map(([name]) => name)
    let healthy = false
    await step('the images build', async () => {
      const began = performance.now()
      await project.compose(['build'], { timeoutMs: 20 * 60_000 })
      console.log(`build: ${seconds(performance.now() - began)}`)
    })
    if (results.every((result) => !result.error)) {
      healthy = await step('the shop comes up and every container is healthy', async () => {
        const began = performance.now()
        await project.compose(['up', '-d', '--wait', '--wait-timeout', '180'], {
          timeoutMs: 240_000,
        })
        console.log(`healthy: ${seconds(performance.now() - began)} after \`docker compose up\``)
      })
    }
    if (healthy) {
      await printReadyTimes(names)
      await new Promise((resolve) => setTimeout(resolve, 5_000)) // let start-up work finish
      await printIdleMemory()
      await printImageSizes(services)
      console.log('\nthe suites in tests/compose, through the gateway:')
      await runSuites()
      console.log('')
      await step('every container stops with exit 0 (docker compose stop)', async () => {
        const all = (await project.compose(['config', '--services'])).trim().split('\n')
        await project.compose(['stop'], { timeoutMs: 120_000 })
        const exits = await Promise.all(
          all.map(async (name) => {
            const id = await project.containerId(name)
            return `${name} ${(await docker(['inspect', '-f', '{{.State.ExitCode}}', id])).trim()}`
          }),
        )
        const failed = exits.filter((exit) => !exit.endsWith(' 0'))
        if (failed.length > 0) throw new Error(`exit codes: ${failed.join(', ')}`)
      })
    }
  } catch (error) {
    results.push({ name: 'the compose test', error: (error as Error).message })
    console.log(`FAIL ${(error as Error).message}`)
  } finally {
    if (results.some((result) => result.error)) await printDiagnosis()
    await step('docker compose down -v removes the project', down)
  }
  const failed = results.filter((result) => result.error)
  for (const result of failed) console.log(`failed: ${result.name}`)
  console.log(`compose test: ${seconds(performance.now() - started)}`)
  console.log(`compose: ${results.length - failed.length} passed, ${failed.length} failed`)
  return failed.length === 0 ? 0 : 1
}

// An interrupted run still removes its containers and volumes.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: removing the ${projectName} project`)
    void down().finally(() => process.exit(130))
  })
}
process.exitCode = await main()

// deploy/observability, checked short of running it: promtool checks the Prometheus config and
// runs the alert rules' unit tests, every dashboard query is parsed by promtool and names only
// metrics the code exports, the collector's pipelines use what they define, and the compose
// profile that runs them is accepted by `docker compose config` (when the compose plugin is here).
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const repoRoot = join(import.meta.dirname, '..', '..')
const observability = join(repoRoot, 'deploy', 'observability')

async function available(command: string, args: string[]): Promise<boolean> {
  return run(command, args).then(
    () => true,
    () => false,
  )
}

const promtool = await available('promtool', ['--version'])
if (!promtool) {
  console.warn(
    'skipping the promtool checks of deploy/observability: promtool is not installed ' +
      '(apt-get install prometheus; .ci/run does)',
  )
}
const compose = await available('docker', ['compose', 'version'])
if (!compose) {
  console.warn(
    'skipping `docker compose config` of the observability profile: no docker compose plugin',
  )
}

interface Dashboard {
  uid: string
  title: string
  panels: { type: string; title: string; targets?: { expr: string; refId: string }[] }[]
  templating: { list: { name: string; allValue?: string }[] }
}

const readDashboard = async () =>
  JSON.parse(
    await readFile(join(observability, 'grafana', 'dashboards', 'microshop.json'), 'utf8'),
  ) as Dashboard

/** grafanaToPromQL replaces Grafana's variables with values, so that promtool can parse the query. */
const grafanaToPromQL = (expr: string) =>
  expr.replaceAll('$__rate_interval', '5m').replaceAll('$service', '.*')

/** METRIC_NAME picks the metric names out of a PromQL query: names followed by a selector or range. */
const METRIC_NAME = /\b([a-z_:][a-z0-9_:]*)\s*(?=\{|\[)/g
const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'])

/** exportedMetrics are the metric names the code registers (`name: '...'`), with their series. */
async function exportedMetrics(): Promise<Set<string>> {
  const names = new Set<string>([
    // prom-client's process metrics (collectDefaultMetrics)
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
  ])
  const sources: string[] = []
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist') continue
      const path = join(folder, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) sources.push(path)
    }
  }
  await walk(join(repoRoot, 'packages'))
  await walk(join(repoRoot, 'services'))
  for (const source of sources) {
    for (const match of (await readFile(source, 'utf8')).matchAll(/\bname: '([a-z_]+)'/g)) {
      const name = match[1] ?? ''
      for (const suffix of ['', '_bucket', '_count', '_sum']) names.add(name + suffix)
    }
  }
  const rules = parseYaml(await readFile(join(observability, 'alerts.yml'), 'utf8')) as {
    groups: { rules: { record?: string; expr: string }[] }[]
  }
  for (const rule of rules.groups.flatMap((group) => group.rules)) {
    if (rule.record) names.add(rule.record)
  }
  return names
}

function metricNames(expr: string): string[] {
  return [...expr.matchAll(METRIC_NAME)]
    .map((match) => match[1] ?? '')
    .filter((name) => !PROMQL_WORDS.has(name))
}

describe('deploy/observability', () => {
  let scratch: string
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'observability-'))
  })
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true })
  })

  it.skipIf(!promtool)(
    'when promtool checks the Prometheus config, then it and its rules are valid',
    async () => {
      const { stdout } = await run('promtool', ['check', 'config', 'prometheus.yml'], {
        cwd: observability,
      })
      expect(stdout).toContain('SUCCESS')
    },
  )

  it.skipIf(!promtool)(
    'when the alert rules run on their unit tests, then every alert fires when it should and only then',
    async () => {
      const { stdout } = await run('promtool', ['test', 'rules', 'alerts.test.yml'], {
        cwd: observability,
      })
      expect(stdout).toContain('SUCCESS')
    },
  )

  it.skipIf(!promtool)(
    'when every dashboard query is given to promtool, then each one parses',
    async () => {
      const dashboard = await readDashboard()
      const queries = dashboard.panels.flatMap((panel) => panel.targets ?? [])
      expect(queries.length).toBeGreaterThan(15)
      const rules = {
        groups: [
          {
            name: 'dashboard',
            rules: queries.map((query, index) => ({
              record: `dashboard:query_${index}`,
              expr: grafanaToPromQL(query.expr),
            })),
          },
        ],
      }
      const file = join(scratch, 'dashboard-queries.yml')
      await writeFile(file, stringifyYaml(rules))
      const { stdout } = await run('promtool', ['check', 'rules', file])
      expect(stdout).toContain(`SUCCESS: ${queries.length} rules found`)
    },
  )

  it('when the dashboard and the alerts are read, then they name only metrics the services export', async () => {
    const exported = await exportedMetrics()
    const dashboard = await readDashboard()
    expect(dashboard).toMatchObject({ uid: 'microshop', title: 'microshop' })
    const rules = parseYaml(await readFile(join(observability, 'alerts.yml'), 'utf8')) as {
      groups: { rules: { expr: string }[] }[]
    }
    const expressions = [
      ...dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)),
      ...rules.groups.flatMap((group) => group.rules.map((rule) => rule.expr)),
    ]
    const unknown = expressions.flatMap(metricNames).filter((name) => !exported.has(name))
    expect(unknown).toEqual([])
    // Every panel that draws has a query, and every variable is one grafanaToPromQL knows.
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0)
    }
    expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(['service'])
  })

  it("when the collector's config is read, then each pipeline uses only components it defines, and OTLP/HTTP is received on 4318", async () => {
    const config = parseYaml(
      await readFile(join(observability, 'otel-collector.yaml'), 'utf8'),
    ) as {
      receivers: Record<string, { protocols?: { http?: { endpoint?: string } } }>
      processors: Record<string, unknown>
      exporters: Record<string, unknown>
      extensions?: Record<string, unknown>
      service: {
        extensions?: string[]
        pipelines: Record<
          string,
          { receivers: string[]; processors?: string[]; exporters: string[] }
        >
      }
    }
    const used = {
      receivers: new Set<string>(),
      processors: new Set<string>(),
      exporters: new Set<string>(),
    }
    for (const pipeline of Object.values(config.service.pipelines)) {
      for (const kind of ['receivers', 'processors', 'exporters'] as const) {
        for (const name of pipeline[kind] ?? []) {
          expect(Object.keys(config[kind]), `${kind} ${name}`).toContain(name)
          used[kind].add(name)
        }
      }
    }
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      expect([...used[kind]].sort()).toEqual(Object.keys(config[kind]).sort())
    }
    for (const name of config.service.extensions ?? []) {
      expect(Object.keys(config.extensions ?? {})).toContain(name)
    }
    expect(config.receivers.otlp?.protocols?.http?.endpoint).toBe('0.0.0.0:4318')
    expect(Object.keys(config.service.pipelines)).toEqual(['traces'])
  })

  it.skipIf(!compose)(
    'when docker compose reads compose.yaml with the observability profile, then it accepts it, and without the profile it starts none of it',
    async () => {
      const env = { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318' }
      const withProfile = await run(
        'docker',
        ['compose', '--profile', 'observability', 'config', '--services'],
        { cwd: repoRoot, env },
      )
      expect(withProfile.stdout.split('\n')).toEqual(
        expect.arrayContaining(['otel-collector', 'jaeger', 'prometheus', 'grafana', 'gateway']),
      )
      const plain = await run('docker', ['compose', 'config', '--services'], { cwd: repoRoot, env })
      for (const service of ['otel-collector', 'jaeger', 'prometheus', 'grafana']) {
        expect(plain.stdout.split('\n')).not.toContain(service)
      }
      const { stdout } = await run(
        'docker',
        ['compose', '--profile', 'observability', 'config', '--format', 'json'],
        { cwd: repoRoot, env },
      )
      const config = JSON.parse(stdout) as {
        services: Record<string, { environment?: Record<string, string> }>
      }
      expect(config.services.orders?.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(
        'http://otel-collector:4318',
      )
    },
  )
})

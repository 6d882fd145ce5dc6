// deploy/tools/helm-chart.ts runs helm over the chart (deploy/helm/microshop) for the chart's tests
// and the drills that run its pods: lint, and template into parsed objects. helm comes from
// deploy/tools/helm-binary.ts.
import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { parseAllDocuments } from 'yaml'
import { helmBinary } from './helm-binary.ts'

/** KubernetesObject is one rendered object, as parsed from YAML. */
export interface KubernetesObject {
  apiVersion: string
  kind: string
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  [field: string]: unknown
}

const run = promisify(execFile)

export const repoRoot = resolve(import.meta.dirname, '..', '..')
export const chartPath = resolve(repoRoot, 'deploy', 'helm', 'microshop')
export const valuesFile = (name: string) => resolve(repoRoot, 'deploy', 'values', `${name}.yaml`)

/** ChartValues are what one install would be given: values files, then --set-string and --set pairs. */
export interface ChartValues {
  files?: string[]
  set?: Record<string, string | number | boolean>
}

/** HelmResult is helm's exit and output; rendering failures are results too, for tests to read. */
export interface HelmResult {
  ok: boolean
  stdout: string
  stderr: string
}

async function helm(args: string[]): Promise<HelmResult> {
  const binary = await helmBinary()
  try {
    const { stdout, stderr } = await run(binary, args, { maxBuffer: 32 * 1024 * 1024 })
    return { ok: true, stdout, stderr }
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string }
    return { ok: false, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(error) }
  }
}

function valueArgs(values: ChartValues): string[] {
  return [
    ...(values.files ?? []).flatMap((file) => ['--values', file]),
    ...Object.entries(values.set ?? {}).flatMap(([key, value]) => ['--set', `${key}=${value}`]),
  ]
}

/** lint runs `helm lint --strict` with the values. */
export function lint(values: ChartValues): Promise<HelmResult> {
  return helm(['lint', '--strict', chartPath, ...valueArgs(values)])
}

/** template runs `helm template` as release `shop` in namespace `shop`; failures are returned. */
export function template(values: ChartValues, extra: string[] = []): Promise<HelmResult> {
  return helm([
    'template',
    'shop',
    chartPath,
    '--namespace',
    'shop',
    ...valueArgs(values),
    ...extra,
  ])
}

/** render templates the chart and parses every object; it throws when helm refuses. */
export async function render(values: ChartValues): Promise<KubernetesObject[]> {
  const result = await template(values)
  if (!result.ok) throw new Error(`helm template failed:\n${result.stderr}`)
  return parseObjects(result.stdout)
}

export function parseObjects(text: string): KubernetesObject[] {
  return parseAllDocuments(text).flatMap((document) => {
    if (document.errors.length > 0) throw new Error(document.errors.join('\n'))
    const object = document.toJS() as KubernetesObject | null
    return object ? [object] : []
  })
}

/** notes renders NOTES.txt, which only `helm install` shows: a client-side dry run. */
export async function notes(values: ChartValues): Promise<string> {
  const result = await helm([
    'install',
    'shop',
    chartPath,
    '--namespace',
    'shop',
    '--dry-run=client',
    ...valueArgs(values),
  ])
  if (!result.ok) throw new Error(`helm install --dry-run failed:\n${result.stderr}`)
  return result.stdout.slice(result.stdout.indexOf('NOTES:'))
}

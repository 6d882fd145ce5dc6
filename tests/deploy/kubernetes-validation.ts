// kubernetes-validation.ts checks rendered Kubernetes objects against the API's schemas without a
// cluster, as strictly as `kubectl apply --validate=strict` would: types, required fields and
// enums from the kubernetes-models packages (the API's OpenAPI schemas, compiled), and unknown
// fields (a misspelt `readOnlyRootFileSystem` that the API server would refuse, or silently drop)
// from the same packages' TypeScript declarations, walked with the TypeScript checker.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import type { KubernetesObject } from '../../deploy/tools/helm-chart.ts'
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1'
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1'

// Each model takes its own kind's data; `never` lets one table hold them all.
type ModelClass = new (data: never) => { validate(): void }

// kinds are every kind the chart may render, each with its model and its declared interface.
const kinds: Record<string, { model: ModelClass; module: string; type: string }> = {
  'v1/ConfigMap': {
    model: ConfigMap,
    module: 'kubernetes-models/v1/ConfigMap',
    type: 'IConfigMap',
  },
  'v1/Secret': { model: Secret, module: 'kubernetes-models/v1/Secret', type: 'ISecret' },
  'v1/Service': { model: Service, module: 'kubernetes-models/v1/Service', type: 'IService' },
  'v1/ServiceAccount': {
    model: ServiceAccount,
    module: 'kubernetes-models/v1/ServiceAccount',
    type: 'IServiceAccount',
  },
  'apps/v1/Deployment': {
    model: Deployment,
    module: 'kubernetes-models/apps/v1/Deployment',
    type: 'IDeployment',
  },
  'apps/v1/StatefulSet': {
    model: StatefulSet,
    module: 'kubernetes-models/apps/v1/StatefulSet',
    type: 'IStatefulSet',
  },
  'policy/v1/PodDisruptionBudget': {
    model: PodDisruptionBudget,
    module: 'kubernetes-models/policy/v1/PodDisruptionBudget',
    type: 'IPodDisruptionBudget',
  },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    model: HorizontalPodAutoscaler,
    module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    type: 'IHorizontalPodAutoscaler',
  },
  'networking.k8s.io/v1/NetworkPolicy': {
    model: NetworkPolicy,
    module: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
    type: 'INetworkPolicy',
  },
  'networking.k8s.io/v1/Ingress': {
    model: Ingress,
    module: 'kubernetes-models/networking.k8s.io/v1/Ingress',
    type: 'IIngress',
  },
  'gateway.networking.k8s.io/v1/HTTPRoute': {
    model: HTTPRoute,
    module: '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute',
    type: 'IHTTPRoute',
  },
}

/** knownKinds are the kinds validateObject has schemas for. */
export const knownKinds = Object.keys(kinds)

/**
 * validateObject lists what is wrong with one object: an unknown kind, a schema violation, or a
 * field the API does not have. Empty means valid.
 */
export function validateObject(object: KubernetesObject): string[] {
  const key = `${object.apiVersion}/${object.kind}`
  const name = `${object.kind} ${object.metadata?.name ?? '(no name)'}`
  const kind = kinds[key]
  if (!kind)
    return [`${name}: no schema for ${key} (add it to tests/deploy/kubernetes-validation.ts)`]
  const problems: string[] = []
  try {
    new kind.model(object as never).validate()
  } catch (error) {
    problems.push(`${name}: ${(error as Error).message}`)
  }
  for (const field of unknownFields(object, declaredTypes().get(key) as ts.Type, '')) {
    problems.push(`${name}: unknown field ${field}`)
  }
  return problems
}

let checker: ts.TypeChecker | undefined
let types: Map<string, ts.Type> | undefined

// declaredTypes compiles, once per process, a file that names every kind's interface, and keeps
// the checker to walk them.
function declaredTypes(): Map<string, ts.Type> {
  if (types) return types
  const root = join(dirname(fileURLToPath(import.meta.url)), '__kinds__.ts')
  const entries = Object.entries(kinds)
  const source = [
    ...entries.map(
      ([, kind], index) => `import type { ${kind.type} as K${index} } from '${kind.module}'`,
    ),
    'export interface Kinds {',
    ...entries.map(([key], index) => `  '${key}': K${index}`),
    '}',
  ].join('\n')
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.Preserve,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2023,
    types: [],
    skipLibCheck: true,
    noEmit: true,
  }
  const host = ts.createCompilerHost(options)
  const readFile = host.readFile.bind(host)
  const getSourceFile = host.getSourceFile.bind(host)
  host.readFile = (file) => (file === root ? source : readFile(file))
  host.fileExists = (file) => file === root || ts.sys.fileExists(file)
  host.getSourceFile = (file, language) =>
    file === root ? ts.createSourceFile(file, source, language) : getSourceFile(file, language)
  const program = ts.createProgram({ rootNames: [root], options, host })
  const problems = ts
    .getPreEmitDiagnostics(program)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
  if (problems.length > 0)
    throw new Error(`the Kubernetes model types did not compile:\n${problems.join('\n')}`)
  checker = program.getTypeChecker()
  const file = program.getSourceFile(root) as ts.SourceFile
  const kindsSymbol = checker
    .getSymbolAtLocation(file)
    ?.exports?.get(ts.escapeLeadingUnderscores('Kinds'))
  if (!kindsSymbol) throw new Error('no Kinds interface')
  const kindsType = checker.getDeclaredTypeOfSymbol(kindsSymbol)
  types = new Map(
    checker
      .getPropertiesOfType(kindsType)
      .map((property) => [property.name, checker!.getTypeOfSymbol(property)]),
  )
  return types
}

// unknownFields walks a value beside its declared type and yields the paths of fields the type
// does not declare. Maps (string index signatures) take any key; primitives and `any` end the walk.
function* unknownFields(value: unknown, type: ts.Type, path: string): Generator<string> {
  const check = checker as ts.TypeChecker
  if (value === null || typeof value !== 'object') return
  if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return
  const members = type.isUnion() ? type.types : [type]
  const objects = members.filter((member) => member.flags & ts.TypeFlags.Object)
  if (objects.length === 0) return
  if (Array.isArray(value)) {
    const element = objects
      .map((member) => check.getIndexTypeOfType(member, ts.IndexKind.Number))
      .find((found) => found !== undefined)
    if (!element) return
    for (const [index, item] of value.entries())
      yield* unknownFields(item, element, `${path}[${index}]`)
    return
  }
  const map = objects
    .map((member) => check.getIndexTypeOfType(member, ts.IndexKind.String))
    .find((found) => found !== undefined)
  if (map) {
    for (const [key, item] of Object.entries(value))
      yield* unknownFields(item, map, `${path}.${key}`)
    return
  }
  const properties = new Map<string, ts.Symbol>()
  for (const member of objects) {
    for (const property of check.getPropertiesOfType(member))
      properties.set(property.name, property)
  }
  for (const [key, item] of Object.entries(value)) {
    const property = properties.get(key)
    const fieldPath = path ? `${path}.${key}` : key
    if (!property) yield fieldPath
    else
      yield* unknownFields(
        item,
        check.getNonNullableType(check.getTypeOfSymbol(property)),
        fieldPath,
      )
  }
}

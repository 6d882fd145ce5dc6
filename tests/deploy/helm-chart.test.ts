// The Helm chart (deploy/helm/microshop), checked short of a cluster: helm lints it, renders it
// for each set of values, and every object is checked against the Kubernetes API's schemas and
// against the policies a platform team asks for. No cluster runs here; the services' own config
// parsers, nats-server and the users service's key parser check what the chart hands them.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse as parseYaml } from 'yaml'
import { beforeAll, describe, expect, it } from 'vitest'
import { NATS_SERVER_BINARY, natsServerAvailable } from '@microshop/platform/testing/nats-server'
import { loadCatalogConfig } from '../../services/catalog/src/config.ts'
import { loadGatewayConfig } from '../../services/gateway/src/config.ts'
import { loadOrdersConfig } from '../../services/orders/src/config.ts'
import { loadPaymentsConfig } from '../../services/payments/src/config.ts'
import { loadUsersConfig } from '../../services/users/src/config.ts'
import { parseSigningKeys } from '../../services/users/src/signing-keys.ts'
import { defaultPorts } from '../../scripts/shop-layout.ts'
import {
  lint,
  notes,
  parseObjects,
  render,
  repoRoot,
  template,
  valuesFile,
  type ChartValues,
} from '../../deploy/tools/helm-chart.ts'
import type { KubernetesObject } from '../../deploy/tools/helm-chart.ts'
import { validateObject } from './kubernetes-validation.ts'

const services = ['gateway', 'users', 'catalog', 'orders', 'payments'] as const
type ServiceName = (typeof services)[number]
const backends = ['users', 'catalog', 'orders', 'payments'] as const

/** The secrets a non-dev install names: made before the install, never by the chart. */
const existingSecrets = {
  'services.users.database.existingSecret': 'users-db',
  'services.users.database.urlKey': 'DATABASE_URL',
  'services.catalog.database.existingSecret': 'catalog-db',
  'services.catalog.database.urlKey': 'DATABASE_URL',
  'services.orders.database.existingSecret': 'orders-db',
  'services.orders.database.urlKey': 'DATABASE_URL',
  'services.payments.database.existingSecret': 'payments-db',
  'services.payments.database.urlKey': 'DATABASE_URL',
  'jwt.existingSecret': 'shop-jwt',
  'admin.existingSecret': 'shop-admin',
}

const valueSets: Record<string, ChartValues> = {
  'the default values with dev=true and the in-chart Postgres and NATS': {
    set: { dev: true, 'postgres.enabled': true, 'nats.enabled': true },
  },
  'deploy/values/development.yaml': { files: [valuesFile('development')] },
  'deploy/values/production.yaml': { files: [valuesFile('production')] },
  'a self-contained production install (in-chart Postgres and NATS, HPAs, an HTTPRoute)': {
    set: {
      'postgres.enabled': true,
      'postgres.existingSecret': 'shop-postgres',
      'nats.enabled': true,
      'jwt.existingSecret': 'shop-jwt',
      'admin.existingSecret': 'shop-admin',
      'httpRoute.enabled': true,
      'httpRoute.parentRefs[0].name': 'public',
      'httpRoute.hostnames[0]': 'shop.example.com',
      ...Object.fromEntries(services.map((name) => [`services.${name}.autoscaling.enabled`, true])),
    },
  },
  'an external NATS and managed Postgres with the gateway on a LoadBalancer': {
    set: {
      ...existingSecrets,
      'nats.url': 'nats://nats.nats:4222',
      'services.gateway.service.type': 'LoadBalancer',
    },
  },
}

const ofKind = (objects: KubernetesObject[], kind: string) =>
  objects.filter((object) => object.kind === kind)
const named = (objects: KubernetesObject[], kind: string, name: string) => {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name)
  if (!found) throw new Error(`no ${kind} ${name}`)
  return found
}

// Loose views of the objects the checks read.
interface Container {
  name: string
  image: string
  ports?: { name?: string; containerPort: number }[]
  env?: { name: string; value?: string; valueFrom?: unknown }[]
  resources?: { limits?: Record<string, unknown>; requests?: Record<string, unknown> }
  securityContext?: {
    runAsNonRoot?: boolean
    allowPrivilegeEscalation?: boolean
    readOnlyRootFilesystem?: boolean
    capabilities?: { drop?: string[]; add?: string[] }
  }
  livenessProbe?: Probe
  readinessProbe?: Probe
  startupProbe?: Probe
  lifecycle?: { preStop?: { exec?: { command: string[] } } }
}
interface Probe {
  httpGet?: { path: string; port: string | number }
  exec?: { command: string[] }
}
interface PodSpec {
  automountServiceAccountToken?: boolean
  terminationGracePeriodSeconds?: number
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number }
  containers: Container[]
  initContainers?: Container[]
  topologySpreadConstraints?: { topologyKey: string }[]
}
interface Workload extends KubernetesObject {
  spec: {
    replicas?: number
    selector: { matchLabels: Record<string, string> }
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec }
  }
}
interface Peer {
  podSelector?: { matchLabels?: Record<string, string> }
  namespaceSelector?: unknown
  ipBlock?: unknown
}
interface PolicyRule {
  ports?: { port: number }[]
  from?: Peer[]
  to?: Peer[]
}
interface NetworkPolicy extends KubernetesObject {
  spec: {
    podSelector: { matchLabels: Record<string, string> }
    policyTypes: string[]
    ingress?: PolicyRule[]
    egress?: PolicyRule[]
  }
}

const workloads = (objects: KubernetesObject[]) =>
  objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet') as Workload[]
const componentOf = (object: KubernetesObject) =>
  object.metadata.labels?.['app.kubernetes.io/component'] ?? ''
const configOf = (objects: KubernetesObject[], name: ServiceName) =>
  (
    named(objects, 'ConfigMap', `shop-microshop-${name}`) as unknown as {
      data: Record<string, string>
    }
  ).data

describe('the Helm chart deploy/helm/microshop', () => {
  it('when helm lints it (--strict) with the default, development and production values, then it finds nothing wrong', async () => {
    for (const values of [
      {},
      { files: [valuesFile('development')] },
      { files: [valuesFile('production')] },
    ]) {
      const result = await lint(values)
      expect(result.stderr + result.stdout, JSON.stringify(values)).toMatch(
        /1 chart\(s\) linted, 0 chart\(s\) failed/,
      )
      expect(result.ok).toBe(true)
    }
  })

  it('when no secret is given and dev is off, then it refuses to render and names every one missing', async () => {
    const result = await template({})
    expect(result.ok).toBe(false)
    for (const name of backends) {
      expect(result.stderr).toContain(
        `services.${name}.database.existingSecret: no database for ${name}`,
      )
    }
    expect(result.stderr).toContain('jwt.existingSecret')
    expect(result.stderr).toContain('admin.existingSecret')
    expect(result.stderr).toContain('nats.url')
    expect(result.stderr).toContain('set dev=true')

    const withoutJwt = await template({
      files: [valuesFile('production')],
      set: { 'jwt.existingSecret': '' },
    })
    expect(withoutJwt.ok).toBe(false)
    expect(withoutJwt.stderr).toContain('jwt.existingSecret')
    expect(withoutJwt.stderr).not.toContain('admin.existingSecret')
    expect(withoutJwt.stderr).not.toContain('database.existingSecret')

    const selfContained = await template({
      set: { ...existingSecrets, 'postgres.enabled': true, 'nats.enabled': true },
    })
    expect(selfContained.ok).toBe(false)
    expect(selfContained.stderr).toContain('postgres.existingSecret')
  })

  it('when values are misspelt, out of range or at odds, then the install stops saying where', async () => {
    const production = valuesFile('production')
    const cases: [NonNullable<ChartValues['set']>, RegExp][] = [
      [{ 'services.orders.replica': 3 }, /services\/orders.*additional propert.*'replica'/s],
      [{ 'nats.replicas': 2 }, /\/nats\/replicas.*one of 1, 3, 5/s],
      [{ 'services.gateway.service.type': 'Public' }, /\/services\/gateway\/service\/type/],
      [
        { 'services.payments.resources.limits.memory': 'lots' },
        /\/services\/payments\/resources\/limits\/memory/,
      ],
      [
        { 'podDefaults.terminationGracePeriodSeconds': 12 },
        /terminationGracePeriodSeconds 12 must be more than/,
      ],
      [
        { 'services.users.database.passwordKey': 'password' },
        /services\.users\.database: set urlKey or passwordKey, not both/,
      ],
      [
        { 'services.orders.autoscaling.minReplicas': 20 },
        /services\.orders\.autoscaling: minReplicas is more than maxReplicas/,
      ],
      [
        {
          'nats.url': '',
          'nats.enabled': true,
          'nats.replicas': 1,
          'config.natsStreamReplicas': 3,
        },
        /natsStreamReplicas: 3 is more than the in-chart cluster's 1/,
      ],
      [
        { 'nats.url': '', 'nats.enabled': true, 'nats.maxFileStore': '1536Mi' },
        /nats\.maxFileStore: 1536Mi is less than the 4Gi the shop's four streams reserve/,
      ],
    ]
    for (const [set, message] of cases) {
      const result = await template({ files: [production], set })
      expect(result.ok, JSON.stringify(set)).toBe(false)
      expect(result.stderr, JSON.stringify(set)).toMatch(message)
    }
  })

  describe.each(Object.entries(valueSets))('with %s', (_name, values) => {
    let objects: KubernetesObject[]
    beforeAll(async () => {
      objects = await render(values)
    })

    it('when every object is checked against the Kubernetes API schemas, then none has a wrong type or an unknown field', () => {
      expect(objects.length).toBeGreaterThan(20)
      expect(objects.flatMap(validateObject)).toEqual([])
    })

    it('when the pods are read, then every container has limits, probes and a non-root read-only securityContext with no capabilities, and no pod a token', () => {
      for (const workload of workloads(objects)) {
        const pod = workload.spec.template.spec
        const where = `${workload.kind} ${workload.metadata.name}`
        expect(pod.automountServiceAccountToken, where).toBe(false)
        for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
          const at = `${where} ${container.name}`
          expect(container.resources?.limits?.cpu, at).toBeDefined()
          expect(container.resources?.limits?.memory, at).toBeDefined()
          expect(container.resources?.requests?.cpu, at).toBeDefined()
          expect(container.resources?.requests?.memory, at).toBeDefined()
          expect(container.livenessProbe, at).toBeDefined()
          expect(container.readinessProbe, at).toBeDefined()
          expect(container.startupProbe, at).toBeDefined()
          expect(
            container.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot,
            at,
          ).toBe(true)
          expect(pod.securityContext?.runAsUser, at).toBeGreaterThan(0)
          expect(container.securityContext?.readOnlyRootFilesystem, at).toBe(true)
          expect(container.securityContext?.allowPrivilegeEscalation, at).toBe(false)
          expect(container.securityContext?.capabilities?.drop, at).toEqual(['ALL'])
          expect(container.securityContext?.capabilities?.add, at).toBeUndefined()
        }
      }
    })

    it("when the services' pods are read, then they probe the health routes, drain within their grace period and spread over nodes", () => {
      for (const name of services) {
        const deployment = named(objects, 'Deployment', `shop-microshop-${name}`) as Workload
        const pod = deployment.spec.template.spec
        const [container] = pod.containers as [Container]
        const config = configOf(objects, name)
        expect(container.livenessProbe?.httpGet?.path).toBe('/health/live')
        expect(container.startupProbe?.httpGet?.path).toBe('/health/live')
        // The gateway's own readiness would follow every service behind it (see the template).
        expect(container.readinessProbe?.httpGet?.path).toBe(
          name === 'gateway' ? '/health/live' : '/health/ready',
        )
        const port = container.ports?.find(
          (p) => p.name === container.readinessProbe?.httpGet?.port,
        )
        expect(port?.containerPort).toBe(Number(config.PORT))
        const preStop = container.lifecycle?.preStop?.exec?.command ?? []
        expect(preStop[0]).toBe('sleep')
        const drainSeconds = Number(preStop[1]) + Number(config.SHUTDOWN_TIMEOUT_MS) / 1000
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(drainSeconds)
        expect(pod.topologySpreadConstraints?.map((c) => c.topologyKey)).toContain(
          'kubernetes.io/hostname',
        )
      }
    })

    it('when the workloads are counted, then each has a PodDisruptionBudget that selects its pods, and replicas or an autoscaler', () => {
      const budgets = ofKind(objects, 'PodDisruptionBudget') as unknown as {
        spec: { selector: { matchLabels: Record<string, string> }; maxUnavailable?: unknown }
      }[]
      const autoscalers = ofKind(objects, 'HorizontalPodAutoscaler') as unknown as {
        spec: { scaleTargetRef: { kind: string; name: string } }
      }[]
      for (const workload of workloads(objects)) {
        const labels = workload.spec.template.metadata.labels
        const selecting = budgets.filter((budget) =>
          Object.entries(budget.spec.selector.matchLabels).every(
            ([key, value]) => labels[key] === value,
          ),
        )
        expect(selecting, `${workload.kind} ${workload.metadata.name}`).toHaveLength(1)
        expect(selecting[0]?.spec.maxUnavailable).toBeGreaterThan(0)
        const scaledBy = autoscalers.filter(
          (a) => a.spec.scaleTargetRef.name === workload.metadata.name,
        )
        if (workload.kind === 'Deployment') {
          expect(scaledBy.length + (workload.spec.replicas === undefined ? 0 : 1)).toBe(1)
        }
      }
    })

    it('when the Services are read, then none is a LoadBalancer or NodePort unless the values ask for the gateway to be', () => {
      const exposed = ofKind(objects, 'Service').filter((service) => {
        const type = (service.spec as { type?: string }).type ?? 'ClusterIP'
        return type === 'LoadBalancer' || type === 'NodePort'
      })
      const asked = values.set?.['services.gateway.service.type']
      expect(exposed.map((service) => service.metadata.name)).toEqual(
        asked ? ['shop-microshop-gateway'] : [],
      )
    })

    it('when the NetworkPolicies are read, then only the gateway takes outside traffic and each service meets only its callers, DNS, its database, NATS and users', () => {
      const policies = ofKind(objects, 'NetworkPolicy') as NetworkPolicy[]
      const deny = named(objects, 'NetworkPolicy', 'shop-microshop-default-deny') as NetworkPolicy
      expect(deny.spec.policyTypes).toEqual(['Ingress', 'Egress'])
      expect(deny.spec.ingress ?? []).toEqual([])
      expect(deny.spec.egress ?? []).toEqual([])
      expect(deny.spec.podSelector.matchLabels).toEqual({
        'app.kubernetes.io/name': 'microshop',
        'app.kubernetes.io/instance': 'shop',
      })
      const inChartPostgres = objects.some(
        (o) => o.kind === 'StatefulSet' && componentOf(o) === 'postgres',
      )
      const inChartNats = objects.some((o) => o.kind === 'StatefulSet' && componentOf(o) === 'nats')
      const peers = (rules: PolicyRule[] | undefined, side: 'from' | 'to') =>
        (rules ?? [])
          .flatMap((rule) =>
            (rule[side] ?? [{}]).map((peer) => {
              const component = peer.podSelector?.matchLabels?.['app.kubernetes.io/component']
              if (component && !peer.namespaceSelector) return component
              if (rule.ports?.some((p) => p.port === 53)) return 'dns'
              return `outside:${(rule.ports ?? []).map((p) => p.port).join(',')}`
            }),
          )
          .sort()
      const database = inChartPostgres ? 'postgres' : 'outside:5432'
      const nats = inChartNats ? 'nats' : 'outside:4222'
      const expected: Record<ServiceName, { from: string[]; to: string[] }> = {
        gateway: { from: ['outside:8080'], to: ['catalog', 'dns', 'orders', 'payments', 'users'] },
        users: { from: ['catalog', 'gateway', 'orders', 'payments'], to: ['dns', database] },
        catalog: { from: ['gateway', 'orders'], to: ['dns', database, nats, 'users'] },
        orders: { from: ['gateway'], to: ['catalog', 'dns', database, nats, 'users'] },
        payments: { from: ['gateway'], to: ['dns', database, nats, 'users'] },
      }
      for (const name of services) {
        const policy = policies.find(
          (p) => p.metadata.name === `shop-microshop-${name}`,
        ) as NetworkPolicy
        const metrics = values.files?.some((f) => f.endsWith('production.yaml'))
          ? [`outside:${defaultPorts[name]}`]
          : []
        const gatewayFrom = name === 'gateway' ? expected.gateway.from : []
        expect(peers(policy.spec.ingress, 'from'), name).toEqual(
          [...(name === 'gateway' ? gatewayFrom : expected[name].from), ...metrics].sort(),
        )
        expect(peers(policy.spec.egress, 'to'), name).toEqual([...expected[name].to].sort())
      }
    })

    it("when each service's ConfigMap is given to its own config parser, then it is accepted and points at Services that exist", () => {
      const ports = new Map(
        ofKind(objects, 'Service').map((s) => [
          s.metadata.name,
          (s.spec as { ports: { port: number }[] }).ports.map((p) => p.port),
        ]),
      )
      const pointsAtService = (url: string) => {
        const { hostname, port } = new URL(url)
        expect(ports.get(hostname), url).toContain(Number(port))
      }
      const database = { DATABASE_URL: 'postgres://u:p@db.example:5432/d' }
      const gateway = loadGatewayConfig(configOf(objects, 'gateway'))
      for (const upstream of Object.values(gateway.upstreams)) pointsAtService(upstream.url)
      pointsAtService(gateway.jwksUrl)
      loadUsersConfig({
        ...configOf(objects, 'users'),
        ...database,
        ADMIN_EMAIL: 'a@b.example',
        ADMIN_PASSWORD: 'xxxxxxxx',
        JWT_SIGNING_KEYS_FILE: '/k',
      })
      const orders = loadOrdersConfig({ ...configOf(objects, 'orders'), ...database })
      pointsAtService(orders.CATALOG_URL)
      for (const config of [
        orders,
        loadCatalogConfig({ ...configOf(objects, 'catalog'), ...database }),
        loadPaymentsConfig({ ...configOf(objects, 'payments'), ...database }),
      ]) {
        pointsAtService(config.JWKS_URL)
        expect(config.NATS_URL).toMatch(/^nats:\/\//)
        if (config.NATS_URL?.includes('shop-microshop-nats'))
          pointsAtService(config.NATS_URL.replace('nats:', 'http:'))
        expect(config.NATS_STREAM_REPLICAS).toBe(
          values.files?.some((f) => f.endsWith('production.yaml')) ||
            config.NATS_URL?.includes('shop-microshop-nats')
            ? 3
            : 1,
        )
        // The stream limits reach the services as integers they accept.
        expect(config.NATS_STREAM_MAX_BYTES).toBe(1024 ** 3)
        expect(config.NATS_STREAM_MAX_AGE_SECONDS).toBe(7 * 24 * 3600)
      }
    })

    it('when Secrets are looked for, then the chart makes none but development ones, and only in dev', () => {
      const dev =
        values.set?.dev === true || values.files?.some((f) => f.endsWith('development.yaml'))
      const secrets = ofKind(objects, 'Secret')
      if (!dev) expect(secrets).toEqual([])
      for (const secret of secrets) {
        expect(secret.metadata.name).toMatch(/-dev$/)
        expect(secret.metadata.annotations?.['microshop.dev/development-values']).toBeDefined()
      }
      // (The Postgres init script names its password variables; it holds no value.)
      for (const config of ofKind(objects, 'ConfigMap').filter(
        (c) => !c.metadata.name.endsWith('-postgres-init'),
      )) {
        expect(JSON.stringify(config)).not.toMatch(/dev-only|PASSWORD|BEGIN PRIVATE/)
      }
      for (const workload of workloads(objects)) {
        for (const container of workload.spec.template.spec.containers) {
          for (const variable of container.env ?? []) {
            if (/PASSWORD|SECRET|KEY(S)?$/.test(variable.name))
              expect(variable.value, variable.name).toBeUndefined()
            if (variable.name === 'DATABASE_URL' && variable.value) {
              expect(variable.value).toMatch(/^postgres:\/\/[^:]+:\$\(DATABASE_PASSWORD\)@/)
            }
          }
        }
      }
    })
  })

  it('when the images are compared with compose.yaml, then the chart runs the images compose builds, under the same names, on the ports their Dockerfiles expose', async () => {
    const compose = parseYaml(await readFile(join(repoRoot, 'compose.yaml'), 'utf8')) as {
      services: Record<string, { image?: string; build?: { dockerfile: string } }>
    }
    const objects = await render({ files: [valuesFile('development')] })
    for (const name of services) {
      const built = compose.services[name]
      expect(built?.build?.dockerfile).toBe(`services/${name}/Dockerfile`)
      const dockerfile = await readFile(join(repoRoot, `services/${name}/Dockerfile`), 'utf8')
      const exposed = Number(/^EXPOSE (\d+)$/m.exec(dockerfile)?.[1])
      const deployment = named(objects, 'Deployment', `shop-microshop-${name}`) as Workload
      const [container] = deployment.spec.template.spec.containers as [Container]
      // compose tags `image: microshop/<name>` as :latest; so does the chart by default.
      expect(container.image).toBe(`${built?.image}:latest`)
      expect(container.ports?.[0]?.containerPort).toBe(exposed)
      expect(exposed).toBe(defaultPorts[name])
      // The image's non-root user is the one the pod runs as.
      expect(dockerfile).toMatch(/^USER node$/m)
      expect(deployment.spec.template.spec.securityContext?.runAsUser).toBe(1000)
    }
  })

  it('when a registry, a tag or a digest is given, then every service pulls from it', async () => {
    const digest = `sha256:${'a'.repeat(64)}`
    const objects = await render({
      files: [valuesFile('production')],
      set: {
        'image.registry': 'registry.example.com:5000/team',
        'image.tag': '1.2.3',
        'services.orders.image.digest': digest,
      },
    })
    const images = Object.fromEntries(
      services.map((name) => [
        name,
        (
          (named(objects, 'Deployment', `shop-microshop-${name}`) as Workload).spec.template.spec
            .containers[0] as Container
        ).image,
      ]),
    )
    expect(images).toEqual({
      gateway: 'registry.example.com:5000/team/microshop/gateway:1.2.3',
      users: 'registry.example.com:5000/team/microshop/users:1.2.3',
      catalog: 'registry.example.com:5000/team/microshop/catalog:1.2.3',
      orders: `registry.example.com:5000/team/microshop/orders@${digest}`,
      payments: 'registry.example.com:5000/team/microshop/payments:1.2.3',
    })
  })

  it("when the development install makes its signing key, then it is one the users service's own parser accepts", async () => {
    const objects = await render({ files: [valuesFile('development')] })
    const secret = named(objects, 'Secret', 'shop-microshop-jwt-dev') as unknown as {
      data: Record<string, string>
    }
    const text = Buffer.from(secret.data['signing-keys.json'] as string, 'base64').toString('utf8')
    const keys = await parseSigningKeys(text, 'the chart')
    expect(keys.jwks.keys).toHaveLength(1)
    // Each render makes a new one (only an install on a cluster keeps the first, by lookup).
    const again = named(
      await render({ files: [valuesFile('development')] }),
      'Secret',
      'shop-microshop-jwt-dev',
    ) as unknown as { data: Record<string, string> }
    expect(again.data['signing-keys.json']).not.toBe(secret.data['signing-keys.json'])
  })

  it('when the in-chart Postgres starts on a new volume, then it runs the same script compose does', async () => {
    const objects = await render({ files: [valuesFile('development')] })
    const init = named(objects, 'ConfigMap', 'shop-microshop-postgres-init') as unknown as {
      data: Record<string, string>
    }
    const composeScript = await readFile(
      join(repoRoot, 'docker', 'postgres', 'init-databases.sh'),
      'utf8',
    )
    expect(init.data['init-databases.sh']).toBe(composeScript)
  })

  it.skipIf(!natsServerAvailable)(
    'when the in-chart NATS cluster is configured, then nats-server accepts the configuration and each server routes to all',
    async () => {
      const folder = await mkdtemp(join(tmpdir(), 'chart-nats-'))
      try {
        for (const replicas of [1, 3, 5]) {
          const objects = await render({
            files: [valuesFile('development')],
            set: { 'nats.replicas': replicas },
          })
          const config = (
            named(objects, 'ConfigMap', 'shop-microshop-nats') as unknown as {
              data: Record<string, string>
            }
          ).data['nats.conf'] as string
          const routes = [
            ...config.matchAll(
              /nats:\/\/shop-microshop-nats-(\d)\.shop-microshop-nats-headless\.shop\.svc:6222/g,
            ),
          ]
          expect(routes.map((route) => Number(route[1]))).toEqual(
            replicas === 1 ? [] : [...Array(replicas).keys()],
          )
          const statefulSet = named(objects, 'StatefulSet', 'shop-microshop-nats') as Workload
          expect(statefulSet.spec.replicas).toBe(replicas)
          const file = join(folder, `nats-${replicas}.conf`)
          await writeFile(file, config.replace('/data', join(folder, 'data')))
          const checked = await promisify(execFile)(NATS_SERVER_BINARY, ['-c', file, '-t'], {
            env: { POD_NAME: 'shop-microshop-nats-0' },
          }).then(
            () => 'ok',
            (error: Error & { stderr?: string }) => error.stderr ?? error.message,
          )
          expect(checked, `nats.replicas=${replicas}`).toBe('ok')
        }
      } finally {
        await rm(folder, { recursive: true, force: true })
      }
    },
  )

  it('when NOTES.txt is shown, then it says how to reach the shop: a port-forward, or the Ingress host', async () => {
    const plain = await notes({ files: [valuesFile('development')] })
    expect(plain).toContain('kubectl -n shop port-forward service/shop-microshop-gateway 8080:8080')
    expect(plain).toContain('DEVELOPMENT INSTALL')
    const production = await notes({ files: [valuesFile('production')] })
    expect(production).toContain('https://shop.example.com/')
    expect(production).not.toContain('DEVELOPMENT')
  })

  it('when tracing has an endpoint, then every service exports to it at the sample ratio; without one, none is told to', async () => {
    const tracing = await render({
      files: [valuesFile('production')],
      set: {
        'config.tracing.otlpEndpoint': 'http://otel-collector.observability:4318',
        'config.tracing.samplePercent': 25,
      },
    })
    const quiet = await render({ files: [valuesFile('production')] })
    for (const name of services) {
      expect(configOf(tracing, name)).toMatchObject({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector.observability:4318',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      })
      expect(Object.keys(configOf(quiet, name)).filter((key) => key.startsWith('OTEL_'))).toEqual(
        [],
      )
    }
  })

  it('when the rendered objects are parsed, then no document is empty of kind or name', async () => {
    const { stdout } = await template({ files: [valuesFile('production')] })
    for (const object of parseObjects(stdout)) {
      expect(object.kind).toBeTruthy()
      expect(object.metadata.name).toMatch(/^shop-microshop(-[a-z0-9-]+)?$/)
    }
  })
})

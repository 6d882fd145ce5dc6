// drills/lib/pod-in-docker.ts: a rendered pod's container run with `docker run`, as its pod spec
// says (short of a cluster): its image, command, environment (values, the chart's development
// Secrets, the pod's own name), user and group, read-only root, dropped capabilities, no new
// privileges, emptyDir volumes as tmpfs, ConfigMap volumes as files, and each volume claim as a
// Docker volume owned by the pod's fsGroup. It runs the pod's probes the way the kubelet would:
// the startup probe until it passes once per container start, then the readiness probe; a
// container whose startup probe has not passed within its budget (failureThreshold x
// periodSeconds) is restarted, as the kubelet restarts it.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { docker } from '../../scripts/compose-project.ts'

interface EnvVar {
  name: string
  value?: string
  valueFrom?: {
    secretKeyRef?: { name: string; key: string }
    fieldRef?: { fieldPath: string }
    resourceFieldRef?: { resource: string; divisor?: string }
  }
}

export interface Probe {
  httpGet?: { path: string; port: string | number }
  exec?: { command: string[] }
  periodSeconds?: number
  failureThreshold?: number
}

export interface RenderedContainer {
  name: string
  image: string
  command?: string[]
  args?: string[]
  env?: EnvVar[]
  ports?: { name?: string; containerPort: number }[]
  securityContext?: {
    readOnlyRootFilesystem?: boolean
    allowPrivilegeEscalation?: boolean
    capabilities?: { drop?: string[] }
  }
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[]
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> }
  startupProbe?: Probe
  readinessProbe?: Probe
}

export interface RenderedPodSpec {
  securityContext?: { runAsUser?: number; runAsGroup?: number; fsGroup?: number }
  containers: RenderedContainer[]
  volumes?: { name: string; emptyDir?: object; configMap?: { name: string } }[]
}

/** RenderedObjects looks up what a pod refers to: ConfigMaps and (development) Secrets. */
export interface RenderedObjects {
  configMap(name: string): Record<string, string>
  secret(name: string): Record<string, string>
}

export interface PodInDocker {
  name: string
  /** ip is the container's address on the drill's network, reachable from this host on Linux. */
  ip: string
  /**
   * startupBudgetMs is how long the container's startup probe may fail after a start before the
   * container is restarted (Kubernetes' defaults without a startup probe: none, 0).
   */
  startupBudgetMs: number
  /** restarts counts the restarts after a failed startup probe, as `kubectl get pods` shows them. */
  readonly restarts: number
  ready(): Promise<boolean>
  kill(): Promise<void>
  start(): Promise<void>
  /** restart stops the container as the kubelet would (SIGTERM, SIGKILL after 10 s) and starts it. */
  restart(): Promise<void>
  remove(): Promise<void>
  /** logTail is the container's last `lines` lines of output (`docker logs --tail`). */
  logTail(lines: number): Promise<string>
}

export interface RunPodOptions {
  /** name is the pod's, e.g. shop-microshop-nats-0; the container is named after it and the run. */
  name: string
  run: string
  network: string
  aliases: string[]
  spec: RenderedPodSpec
  objects: RenderedObjects
  /** claims are the volume claim templates' names: each becomes a Docker volume for this pod. */
  claims: string[]
  /** folder is where ConfigMap files are written for this pod. */
  folder: string
}

/** runPodInDocker starts the pod's (first) container and returns its handle. */
export async function runPodInDocker(options: RunPodOptions): Promise<PodInDocker> {
  const container = options.spec.containers[0] as RenderedContainer
  const security = options.spec.securityContext ?? {}
  const user = `${security.runAsUser ?? 0}:${security.runAsGroup ?? security.runAsUser ?? 0}`
  const containerName = `${options.run}-${options.name}`
  const args = ['run', '-d', '--name', containerName, '--network', options.network]
  for (const alias of options.aliases) args.push('--network-alias', alias)
  args.push('--user', user)
  if (container.securityContext?.readOnlyRootFilesystem) args.push('--read-only')
  if (container.securityContext?.allowPrivilegeEscalation === false) {
    args.push('--security-opt', 'no-new-privileges')
  }
  for (const capability of container.securityContext?.capabilities?.drop ?? []) {
    args.push('--cap-drop', capability)
  }
  for (const variable of container.env ?? []) {
    args.push('--env', `${variable.name}=${envValue(variable, container, options)}`)
  }
  const volumes = new Map((options.spec.volumes ?? []).map((volume) => [volume.name, volume]))
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.get(mount.name)
    if (options.claims.includes(mount.name)) {
      const dockerVolume = `${containerName}-${mount.name}`
      await docker(['volume', 'create', dockerVolume])
      // fsGroup: Kubernetes makes the volume writable for the pod's group; so does this chown.
      const owner = `${security.runAsUser ?? 0}:${security.fsGroup ?? 0}`
      await docker([
        'run',
        '--rm',
        '--user',
        '0',
        '-v',
        `${dockerVolume}:/volume`,
        '--entrypoint',
        'chown',
        container.image,
        owner,
        '/volume',
      ])
      args.push('-v', `${dockerVolume}:${mount.mountPath}`)
    } else if (volume?.emptyDir) {
      args.push(
        '--tmpfs',
        `${mount.mountPath}:uid=${security.runAsUser ?? 0},gid=${security.fsGroup ?? 0},mode=0770`,
      )
    } else if (volume?.configMap) {
      const folder = join(options.folder, mount.name)
      await mkdir(folder, { recursive: true })
      for (const [key, text] of Object.entries(options.objects.configMap(volume.configMap.name))) {
        await writeFile(join(folder, key), text, { mode: 0o755 })
      }
      args.push('-v', `${folder}:${mount.mountPath}:ro`)
    } else {
      throw new Error(`${options.name}: volume ${mount.name} is of a kind this drill does not run`)
    }
  }
  const command = [...(container.command ?? []), ...(container.args ?? [])]
  if (container.command?.length) args.push('--entrypoint', container.command[0] as string)
  args.push(container.image, ...(container.command?.length ? command.slice(1) : command))
  await docker(args)
  const ip = (
    await docker([
      'inspect',
      '-f',
      '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}',
      containerName,
    ])
  ).trim()

  // started: the startup probe has passed since the container last started. Until it has, the
  // kubelet runs no readiness probe and the pod is not ready (a NATS server that answers
  // `js-enabled-only` before its cluster has elected a meta leader is not yet in service).
  const startupProbe = container.startupProbe
  const startupBudgetMs = startupProbe
    ? (startupProbe.failureThreshold ?? 3) * (startupProbe.periodSeconds ?? 10) * 1000
    : 0
  let started = !startupProbe
  let startedAt = performance.now()
  let restarts = 0
  const pod: PodInDocker = {
    name: options.name,
    ip,
    startupBudgetMs,
    get restarts() {
      return restarts
    },
    async ready() {
      if (!started) {
        started = await probe(containerName, ip, container, startupProbe)
        if (!started && performance.now() - startedAt > startupBudgetMs) {
          // The kubelet's answer to a startup probe out of tries: the container is stopped
          // and started again.
          await pod.restart()
          restarts++
        }
      }
      return started && probe(containerName, ip, container, container.readinessProbe)
    },
    async kill() {
      await docker(['kill', '--signal', 'KILL', containerName])
    },
    async start() {
      started = !startupProbe
      startedAt = performance.now()
      await docker(['start', containerName])
    },
    async restart() {
      started = !startupProbe
      await docker(['restart', '--time', '10', containerName], { timeoutMs: 120_000 })
      startedAt = performance.now()
    },
    async logTail(lines) {
      return docker(['logs', '--tail', String(lines), containerName])
    },
    async remove() {
      await docker(['rm', '-f', '-v', containerName]).catch(() => undefined)
      for (const claim of options.claims) {
        await docker(['volume', 'rm', '-f', `${containerName}-${claim}`]).catch(() => undefined)
      }
    },
  }
  return pod
}

/** waitUntilPodReady runs a pod's probes until it is ready, or throws after `withinMs`. */
export async function waitUntilPodReady(pod: PodInDocker, withinMs: number): Promise<void> {
  const deadline = performance.now() + withinMs
  while (!(await pod.ready())) {
    if (performance.now() > deadline)
      throw new Error(`${pod.name} was not ready within ${withinMs} ms`)
    await sleep(500)
  }
}

function envValue(variable: EnvVar, container: RenderedContainer, options: RunPodOptions): string {
  if (variable.value !== undefined) return variable.value
  const secret = variable.valueFrom?.secretKeyRef
  if (secret) {
    const value = options.objects.secret(secret.name)[secret.key]
    if (value === undefined)
      throw new Error(`${options.name}: no ${secret.key} in Secret ${secret.name}`)
    return value
  }
  if (variable.valueFrom?.fieldRef?.fieldPath === 'metadata.name') return options.name
  const resourceField = variable.valueFrom?.resourceFieldRef
  if (resourceField) {
    // As the kubelet: the container's limit (or request) over the divisor, rounded up.
    const [kind, resource] = resourceField.resource.split('.') as ['limits' | 'requests', string]
    const amount = container.resources?.[kind]?.[resource]
    if (amount === undefined) {
      throw new Error(`${options.name}: ${variable.name} reads ${resourceField.resource}, not set`)
    }
    return String(Math.ceil(quantity(amount) / quantity(resourceField.divisor ?? '1')))
  }
  throw new Error(`${options.name}: ${variable.name} comes from somewhere this drill does not know`)
}

const QUANTITY_SUFFIXES: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
}

/** quantity reads a Kubernetes resource quantity ('500m', '1', '512Mi') as a number. */
function quantity(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([a-zA-Z]*)$/.exec(text)
  const scale = match ? QUANTITY_SUFFIXES[match[2] as string] : undefined
  if (!match || scale === undefined) throw new Error(`not a resource quantity: ${text}`)
  return Number(match[1]) * scale
}

async function probe(
  containerName: string,
  ip: string,
  container: RenderedContainer,
  spec: Probe | undefined,
): Promise<boolean> {
  if (spec?.exec) {
    return docker(['exec', containerName, ...spec.exec.command], { timeoutMs: 10_000 }).then(
      () => true,
      () => false,
    )
  }
  if (spec?.httpGet) {
    const { port, path } = spec.httpGet
    const number =
      typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort
    try {
      const response = await fetch(`http://${ip}:${number}${path}`, {
        signal: AbortSignal.timeout(3_000),
      })
      await response.body?.cancel()
      return response.ok
    } catch {
      return false
    }
  }
  throw new Error(`${container.name} has a probe of a kind this drill does not run`)
}

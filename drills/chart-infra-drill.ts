// drills/chart-infra-drill.ts (`npm run drill:chart-infra`): the chart's self-contained install,
// short of a cluster. It renders the chart with deploy/values/development.yaml and runs the
// in-chart Postgres and the three-server NATS JetStream cluster in Docker exactly as their pod
// specs say (command, configuration, user, read-only root, no capabilities, volumes; the routes
// resolve through Docker network aliases named like the headless Service's DNS names), waits
// until their own probes say they are ready (startup, then readiness, as the kubelet runs them:
// a Service sends no connection to a pod before that) and the NATS servers have formed one
// JetStream cluster (a meta group of all three; see startNatsCluster), then runs the services
// (separate processes) on them with the rendered settings (NATS_STREAM_REPLICAS=3). Under a
// steady mix of checkouts it kills the NATS server the services connected to (SIGKILL) and starts
// it again: streams kept on three servers carry on. Every stream must have three replicas, every
// order settle, invariants 1-4 hold.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'
import { render, valuesFile, type KubernetesObject } from '../deploy/tools/helm-chart.ts'
import { docker } from '../scripts/compose-project.ts'
import type { BackendService } from '../scripts/shop-layout.ts'
import { generateSigningKey } from '../services/users/src/signing-keys.ts'
import { buildBundles } from '../scripts/build-bundles.ts'
import {
  createProducts,
  Gateways,
  logIn,
  runSteadyCheckouts,
  signUpShoppers,
} from './lib/checkout-workload.ts'
import {
  runPodInDocker,
  waitUntilPodReady,
  type PodInDocker,
  type RenderedObjects,
  type RenderedPodSpec,
} from './lib/pod-in-docker.ts'
import { backlogRows, readBacklog, waitUntilDrained } from './lib/fault-checks.ts'
import { formatReplicaWork, replicaWork } from './lib/replica-work.ts'
import { startServiceInstances, type ServiceInstances } from './lib/service-instances.ts'
import { checkShopInvariants, formatInvariants, waitUntilSettled } from './lib/shop-invariants.ts'

const run = `microshop-infra-${randomBytes(3).toString('hex')}`
const admin = { email: 'drill-admin@microshop.local', password: `drill-admin-${run}` }
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`)
/** The release's names, as `helm template shop --namespace shop` renders them. */
const natsPod = (index: number) => `shop-microshop-nats-${index}`
const natsKilledAt = 8
const natsBackAt = 18
/** A cold-started NATS cluster gets this long to form, and this many starts (startNatsCluster). */
const FORMATION_MS = 40_000
const FORMATION_ATTEMPTS = 6

interface StatefulSet extends KubernetesObject {
  spec: {
    replicas: number
    serviceName: string
    template: { spec: RenderedPodSpec }
    volumeClaimTemplates?: { metadata: { name: string } }[]
  }
}

async function main(): Promise<number> {
  const objects = await render({ files: [valuesFile('development')] })
  const find = (kind: string, name: string) => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name)
    if (!found) throw new Error(`the chart rendered no ${kind} ${name}`)
    return found
  }
  const rendered: RenderedObjects = {
    configMap: (name) =>
      (find('ConfigMap', name) as unknown as { data: Record<string, string> }).data,
    secret: (name) => {
      const secret = find('Secret', name) as unknown as {
        stringData?: Record<string, string>
        data?: Record<string, string>
      }
      return {
        ...secret.stringData,
        ...Object.fromEntries(
          Object.entries(secret.data ?? {}).map(([key, value]) => [
            key,
            Buffer.from(value, 'base64').toString(),
          ]),
        ),
      }
    },
  }
  const nats = find('StatefulSet', 'shop-microshop-nats') as StatefulSet
  const postgres = find('StatefulSet', 'shop-microshop-postgres') as StatefulSet
  const ordersConfig = rendered.configMap('shop-microshop-orders')
  const streamReplicas = Number(ordersConfig.NATS_STREAM_REPLICAS)
  log(
    `${run}: the chart's Postgres and ${nats.spec.replicas} NATS servers in Docker, NATS_STREAM_REPLICAS=${streamReplicas}`,
  )

  const folder = await mkdtemp(join(tmpdir(), `${run}-`))
  const network = `${run}-net`
  const pods: PodInDocker[] = []
  let shop: ServiceInstances | undefined
  let gateways: Gateways | undefined
  try {
    await buildBundles()
    await docker(['network', 'create', network])
    const claims = (set: StatefulSet) =>
      (set.spec.volumeClaimTemplates ?? []).map((claim) => claim.metadata.name)
    // The StatefulSet's pods start all at once (podManagementPolicy: Parallel), as here.
    const runNatsServers = () =>
      Promise.all(
        Array.from({ length: nats.spec.replicas }, (_, index) =>
          runPodInDocker({
            name: natsPod(index),
            run,
            network,
            aliases: [`${natsPod(index)}.${nats.spec.serviceName}.shop.svc`],
            spec: nats.spec.template.spec,
            objects: rendered,
            claims: claims(nats),
            folder: join(folder, natsPod(index)),
          }),
        ),
      )
    const started = performance.now()
    const natsServers = await startNatsCluster(runNatsServers, nats.spec.replicas, pods)
    const database = await runPodInDocker({
      name: 'shop-microshop-postgres-0',
      run,
      network,
      aliases: ['shop-microshop-postgres'],
      spec: postgres.spec.template.spec,
      objects: rendered,
      claims: claims(postgres),
      folder: join(folder, 'postgres'),
    })
    pods.push(database)
    await waitUntilPodReady(database, 2 * database.startupBudgetMs + 60_000)
    log(
      `every pod is ready (startup, then readiness probe) ${((performance.now() - started) / 1000).toFixed(1)} s after start (NATS: a meta group of all ${nats.spec.replicas} servers)${restartsSaid(pods)}`,
    )

    const passwords = rendered.secret('shop-microshop-postgres-dev')
    const databaseUrls = Object.fromEntries(
      (['users', 'catalog', 'orders', 'payments'] as const).map((service) => [
        service,
        `postgres://${service}:${passwords[`${service}-password`]}@${database.ip}:5432/${service}`,
      ]),
    ) as Record<BackendService, string>
    const natsUrl = `nats://${(natsServers[0] as PodInDocker).ip}:4222`
    try {
      shop = await startServiceInstances({
        replicas: { gateway: 1, users: 1, catalog: 2, orders: 2, payments: 2 },
        databaseUrls,
        natsUrl,
        natsNamespace: '',
        env: {
          PATH: process.env.PATH ?? '',
          LOG_LEVEL: 'warn',
          NATS_STREAM_REPLICAS: String(streamReplicas),
          ADMIN_EMAIL: admin.email,
          ADMIN_PASSWORD: admin.password,
          JWT_SIGNING_KEYS: JSON.stringify({ keys: [await generateSigningKey()] }),
          RATE_LIMIT_MAX: '0',
          AUTH_RATE_LIMIT_MAX: '0',
          // Every request comes from the drill's one address (decision 0012's per-client bound).
          CLIENT_MAX_IN_FLIGHT: '0',
        },
      })
    } catch (error) {
      // A service that could not set its streams up: say what each NATS server knew then, and
      // what each logged (a refused stream placement is logged by the meta leader).
      log(`JetStream as each NATS server saw it:\n${await describeJetStream(natsServers)}`)
      for (const pod of natsServers) {
        const tail = await pod.logTail(40).catch((e: unknown) => `(no log: ${String(e)})`)
        log(`${pod.name}'s last log lines:\n${tail}`)
      }
      throw error
    }
    log(`the services run on ${natsUrl} and ${database.ip}:5432`)
    const streams = await streamReplicaCounts(natsUrl)
    log(`streams: ${streams.map((s) => `${s.name} on ${s.servers} servers`).join(', ')}`)

    gateways = new Gateways(shop.gatewayUrls)
    const token = await logIn(gateways, admin.email, admin.password)
    const plentiful = await createProducts(
      gateways,
      token,
      `${run}-p`,
      Array<number>(6).fill(100_000),
    )
    const scarce = await createProducts(gateways, token, `${run}-s`, [8, 8])
    const shoppers = await signUpShoppers(gateways, run, 8)
    const seed = natsServers[0] as PodInDocker
    const faults: Promise<void>[] = []
    log(
      `steady load: 10 checkouts/s for 30 s; ${seed.name} killed at ${natsKilledAt} s, started at ${natsBackAt} s`,
    )
    const steady = await runSteadyCheckouts({
      gateways,
      shoppers,
      plentiful,
      scarce,
      ratePerSecond: 10,
      durationMs: 30_000,
      replayEvery: 10,
      giveUpAfterMs: 60_000,
      at: (second) => {
        if (second === natsKilledAt)
          faults.push(seed.kill().then(() => log(`SIGKILL ${seed.name}`)))
        if (second === natsBackAt) {
          faults.push(
            seed
              .start()
              // The chart's startup probe allows 90 x 2 s: a restarted server catching its
              // streams up may take most of it before the full /healthz passes, and past it
              // the container is restarted once more, as the kubelet would.
              .then(() => waitUntilPodReady(seed, 2 * seed.startupBudgetMs + 60_000))
              .then(() => log(`${seed.name} started again and ready${restartsSaid([seed])}`)),
          )
        }
      },
    })
    await Promise.all(faults)
    const pending = await waitUntilSettled(databaseUrls.orders, 120_000)
    // Settled orders are not yet a settled shop: catalog commits or releases each reservation
    // when the order's outcome reaches it, later still where a server was down. Wait for every
    // outbox and consumer to empty before reading the stock.
    const settledAt = performance.now()
    const { backlog, drainedAt } = await waitUntilDrained(
      () => readBacklog(databaseUrls, natsUrl, ''),
      120_000,
    )
    log(
      drainedAt === undefined
        ? `the backlog did not drain in 120 s: ${JSON.stringify(backlog)}`
        : `outboxes and consumers empty ${((drainedAt - settledAt) / 1000).toFixed(1)} s after the orders settled`,
    )
    const work = await replicaWork(shop.instances)
    const rows = await checkShopInvariants(databaseUrls, {
      checkouts: steady.checkouts,
      products: [...plentiful, ...scarce],
    })
    console.log(`\nwork per replica, from each one's /metrics:\n${formatReplicaWork(work)}`)
    const drained = backlogRows(backlog)
    console.log(
      `\ninvariants, read from each service's database:\n${formatInvariants([...rows, ...drained])}`,
    )
    const checks = [
      {
        name: `every stream on ${streamReplicas} servers`,
        ok: streams.length > 0 && streams.every((s) => s.servers === streamReplicas),
      },
      ...rows.map((row) => ({ name: row.invariant, ok: row.violations.length === 0 })),
      ...drained.map((row) => ({ name: row.invariant, ok: row.violations.length === 0 })),
      {
        name: 'every checkout accepted, every order settled',
        ok:
          pending === 0 && steady.checkouts.every((c) => c.orderId) && steady.failures.length === 0,
      },
    ]
    for (const check of checks.filter((c) => !c.ok)) console.log(`failed: ${check.name}`)
    if (steady.failures.length > 0)
      console.log(`failures: ${steady.failures.slice(0, 3).join('; ')}`)
    const failed = checks.filter((check) => !check.ok).length
    console.log(`\nchart infrastructure drill: ${checks.length - failed} passed, ${failed} failed`)
    return failed === 0 ? 0 : 1
  } finally {
    await gateways?.close()
    await shop?.close()
    for (const pod of pods) await pod.remove()
    await docker(['network', 'rm', network]).catch(() => undefined)
    await rm(folder, { recursive: true, force: true })
    log(`removed the ${run} containers, volumes and network`)
  }
}

/**
 * startNatsCluster runs the chart's NATS servers (`start`) until they form one JetStream cluster:
 * every server ready and in a meta group of all `replicas` servers, which a stream kept on
 * `replicas` servers needs. nats-server 2.10 does not always, measured on this machine (docker,
 * all three started at once; a good start forms in 15-25 s):
 * - in 1 start of 4 to 1 of 2 the meta group stayed at 2 of 3 servers, every server's /healthz
 *   passing, and every 3-replica stream was refused with "no suitable peers for placement": a
 *   restart of the server left out (its volume kept) brought it in within seconds;
 * - in about 1 start of 5 no server was elected leader for over a minute: those servers are
 *   removed with their volumes (nothing is stored yet) and started again.
 * These are the remedies docs/deploy-kubernetes.md gives an operator. The servers started are
 * added to `pods`, so that the drill removes them whatever happens.
 */
async function startNatsCluster(
  start: () => Promise<PodInDocker[]>,
  replicas: number,
  pods: PodInDocker[],
): Promise<PodInDocker[]> {
  let servers = await start()
  pods.push(...servers)
  for (let attempt = 1; ; attempt++) {
    const deadline = performance.now() + FORMATION_MS
    let groups: MetaGroupView[] = []
    let formed = false
    while (!formed && performance.now() < deadline) {
      const ready = await Promise.all(servers.map((server) => server.ready()))
      groups = await Promise.all(servers.map(metaGroupView))
      formed = ready.every(Boolean) && groups.every((group) => group.size === replicas)
      if (!formed) await sleep(1_000)
    }
    if (formed) return servers
    const view = await describeJetStream(servers)
    if (attempt === FORMATION_ATTEMPTS) {
      throw new Error(
        `the NATS servers formed no JetStream cluster of ${replicas} in ${FORMATION_ATTEMPTS} tries:\n${view}`,
      )
    }
    // The leader's view names the members; a server outside them is restarted.
    const members = groups.find((group) => group.members.length > 0)?.members ?? []
    const outside = servers.filter((server) => !members.includes(server.name))
    if (members.length > 0 && outside.length > 0) {
      log(
        `the NATS servers' meta group has ${members.length} of ${replicas} servers after ${FORMATION_MS / 1000} s (a nats-server cold-start fault); restarting ${outside.map((server) => server.name).join(', ')}:\n${view}`,
      )
      await Promise.all(outside.map((server) => server.restart()))
    } else {
      log(
        `the NATS servers formed no JetStream cluster of ${replicas} in ${FORMATION_MS / 1000} s (a nats-server cold-start fault); removing them and their volumes to start again:\n${view}`,
      )
      for (const server of servers) {
        await server.remove()
        pods.splice(pods.indexOf(server), 1)
      }
      servers = await start()
      pods.push(...servers)
    }
  }
}

/** restartsSaid names the pods the kubelet's rule restarted (a startup probe out of tries). */
function restartsSaid(pods: PodInDocker[]): string {
  const restarted = pods.filter((pod) => pod.restarts > 0)
  return restarted.length === 0
    ? ''
    : `; restarted after a failed startup probe: ${restarted.map((pod) => `${pod.name} ${pod.restarts}x`).join(', ')}`
}

interface MetaGroupView {
  /** size is the meta group's size as this server sees it, 0 while it knows no leader. */
  size: number
  /** members are the group's servers (the leader and its peers), known to the leader only. */
  members: string[]
}

async function metaGroupView(server: PodInDocker): Promise<MetaGroupView> {
  try {
    const meta = (await readJsz(server)).meta_cluster
    if (!meta?.leader) return { size: 0, members: [] }
    const isLeader = meta.leader === server.name
    return {
      size: meta.cluster_size ?? 0,
      members: isLeader ? [meta.leader, ...(meta.replicas ?? []).map((peer) => peer.name)] : [],
    }
  } catch {
    return { size: 0, members: [] }
  }
}

/** Jsz is what the drill reads of a NATS server's `/jsz?streams=true`. */
interface Jsz {
  config?: { max_storage?: number }
  reserved_storage?: number
  streams?: number
  meta_cluster?: {
    leader?: string
    cluster_size?: number
    replicas?: { name: string; current: boolean; offline?: boolean }[]
  }
  account_details?: { stream_detail?: { name: string; cluster?: { leader?: string } }[] }[]
}

async function readJsz(server: PodInDocker): Promise<Jsz> {
  const response = await fetch(`http://${server.ip}:8222/jsz?streams=true`, {
    signal: AbortSignal.timeout(5_000),
  })
  return (await response.json()) as Jsz
}

/**
 * describeJetStream reads each NATS server's /jsz: its view of the meta group, its reserved and
 * allowed storage, and the streams it keeps, one line per server.
 */
async function describeJetStream(pods: PodInDocker[]): Promise<string> {
  const lines = await Promise.all(
    pods.map(async (pod) => {
      try {
        const jsz = await readJsz(pod)
        const meta = jsz.meta_cluster
        const peers = (meta?.replicas ?? [])
          .map(
            (peer) =>
              `${peer.name}${peer.current ? '' : ' (behind)'}${peer.offline ? ' (offline)' : ''}`,
          )
          .join(', ')
        const streams = (jsz.account_details ?? [])
          .flatMap((account) => account.stream_detail ?? [])
          .map((stream) => `${stream.name}@${stream.cluster?.leader ?? '?'}`)
          .join(', ')
        const gib = (bytes = 0) => (bytes / 1024 ** 3).toFixed(1)
        return `${pod.name}: meta leader ${meta?.leader ?? 'none'} of ${meta?.cluster_size ?? '?'} (peers: ${peers || 'none'}), reserved ${gib(jsz.reserved_storage)} of ${gib(jsz.config?.max_storage)} GiB, ${jsz.streams ?? 0} streams: ${streams || 'none'}`
      } catch (error) {
        return `${pod.name}: /jsz did not answer (${String(error)})`
      }
    }),
  )
  return lines.join('\n')
}

/** streamReplicaCounts says on how many servers each stream is kept (its leader and replicas). */
async function streamReplicaCounts(url: string): Promise<{ name: string; servers: number }[]> {
  const nc = await connect({ servers: url })
  try {
    const jsm = await jetstreamManager(nc)
    const streams: { name: string; servers: number }[] = []
    for await (const stream of jsm.streams.list()) {
      streams.push({
        name: stream.config.name,
        servers: (stream.cluster?.leader ? 1 : 0) + (stream.cluster?.replicas?.length ?? 0),
      })
    }
    return streams
  } finally {
    await nc.close()
  }
}

process.exitCode = await main().catch((error: unknown) => {
  console.error('chart infrastructure drill failed:', error)
  return 1
})

// drills/lib/replica-work.ts: how much work each replica did, from its own /metrics: the API
// requests it answered, the events it consumed and those it published (each replica publishes
// what it committed). Spread consumption shows the replicas sharing each durable consumer.
import type { Instance } from './service-instances.ts'

/** ReplicaWork is one replica's counters since its last start. */
export interface ReplicaWork {
  instance: string
  requests: number
  consumed: number
  published: number
}

/** replicaWork reads each running instance's /metrics; an instance that does not answer is left out. */
export async function replicaWork(instances: readonly Instance[]): Promise<ReplicaWork[]> {
  const rows = await Promise.all(
    instances.map(async (instance) => {
      try {
        const response = await fetch(`${instance.url}/metrics`, {
          signal: AbortSignal.timeout(3_000),
        })
        const text = await response.text()
        return {
          instance: instance.name,
          requests: sum(
            text,
            'http_request_duration_seconds_count',
            (labels) => !/route="\/(health|metrics)/.test(labels),
          ),
          consumed: sum(text, 'events_consumed_total'),
          published: sum(text, 'events_published_total'),
        }
      } catch {
        return undefined
      }
    }),
  )
  return rows.filter((row): row is ReplicaWork => row !== undefined)
}

/** parseReplicaWork reads the counters out of one replica's /metrics text. */
export function parseReplicaWork(instance: string, text: string): ReplicaWork {
  return {
    instance,
    requests: sum(
      text,
      'http_request_duration_seconds_count',
      (labels) => !/route="\/(health|metrics)/.test(labels),
    ),
    consumed: sum(text, 'events_consumed_total'),
    published: sum(text, 'events_published_total'),
  }
}

function sum(text: string, metric: string, keep: (labels: string) => boolean = () => true): number {
  let total = 0
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${metric}(\\{[^}]*\\})? ([0-9.e+]+)$`).exec(line)
    if (match && keep(match[1] ?? '')) total += Number(match[2])
  }
  return total
}

/** formatReplicaWork prints the counters as a table. */
export function formatReplicaWork(rows: ReplicaWork[]): string {
  const lines = [
    `  ${'replica'.padEnd(12)} ${'requests'.padStart(9)} ${'consumed'.padStart(9)} ${'published'.padStart(10)}`,
  ]
  for (const row of rows) {
    lines.push(
      `  ${row.instance.padEnd(12)} ${String(row.requests).padStart(9)} ${String(row.consumed).padStart(9)} ${String(row.published).padStart(10)}`,
    )
  }
  return lines.join('\n')
}

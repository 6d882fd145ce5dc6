// bench/measured-step.ts runs one step of the benchmark: checkouts at one offered rate with the
// product reads beside them, and around the measured window, what it cost: CPU seconds of every
// process (the shop's, Postgres's, NATS's, the load generator's, and the rest of the machine's),
// Postgres commits per database and stored events, and with pg_stat_statements, each statement's.
import {
  runCheckoutStep,
  type CheckoutStepOptions,
  type CheckoutStepResult,
} from './checkout-load.ts'
import { CpuMeter, type ProcessGroup } from './process-stats.ts'
import { runReadLoad, type ReadLoadResult } from './read-load.ts'
import type { StatementCounts, WorkCounters, WorkCounts } from './work-counters.ts'

export type StepKind =
  'warm-up' | 'ladder' | 'half-saturation' | 'overload-3x' | 'spec-250' | 'half-saturation-info'

/** NOT_THE_SHOP are the CPU groups left out of the shop's cost: the load generator, everyone else. */
export const NOT_THE_SHOP = new Set(['bench-client', 'other'])

export interface StepReport extends CheckoutStepResult {
  kind: StepKind
  reads: ReadLoadResult
  /** cpuSeconds per process group in the measured window, with `bench-client` and `other`. */
  cpuSeconds: Record<string, number>
  /** cpuMsPerCheckout sums the shop's groups (services, Postgres, NATS) per confirmation. */
  cpuMsPerCheckout: number
  /** confirmedInWindow are the confirmations the CPU time is divided by. */
  confirmedInWindow: number
  /** work underneath, per second and per confirmation; Postgres commits by database. */
  postgresCommitsPerSecond?: number
  postgresCommitsPerCheckout?: Record<string, number>
  /** processorCommitsPerCheckout are the simulated card processor's, among payments' commits. */
  processorCommitsPerCheckout?: number
  /**
   * writeTransactionsPerCheckout are the shop's own transactions that wrote (and so flushed a
   * commit), exact, from the server's transaction ids, without the processor's.
   */
  writeTransactionsPerCheckout?: number
  eventsPerSecond?: number
  eventsPerCheckout?: number
  /** statementsPerCheckout are the statements that took the most execution time, per confirmation. */
  statementsPerCheckout?: StatementCost[]
  /** overloadedBecause says why this step counts as past saturation; absent when it kept up. */
  overloadedBecause?: string | undefined
}

export interface MeasuredStepOptions extends Omit<CheckoutStepOptions, 'onMeasuring'> {
  kind: StepKind
  gatewayUrl: string
  readPaths: readonly string[]
  readRatePerSecond: number
  /** processGroups are every group to account CPU to, the load generator's included. */
  processGroups: ProcessGroup[]
  counters?: WorkCounters | undefined
}

/** StatementCost is what one statement of one database cost per confirmed checkout in a step. */
export interface StatementCost {
  database: string
  query: string
  calls: number
  execUs: number
  walRecords: number
}

/** STATEMENTS_KEPT is how many statements a step keeps, the costliest first. */
const STATEMENTS_KEPT = 20

/** LIMITS are where a step counts as past saturation. */
export const LIMITS = { errorShare: 0.01, placedToConfirmedP99Ms: 1_000, keptUpShare: 0.9 }

const NO_READS: ReadLoadResult = { requestsPerSecond: 0, p50Ms: 0, p99Ms: 0, errors: 0 }

export async function runMeasuredStep(options: MeasuredStepOptions): Promise<StepReport> {
  const meter = new CpuMeter(options.processGroups)
  let reads: Promise<ReadLoadResult> | undefined
  let countsBefore: Promise<WorkCounts> | undefined
  let countsAfter: WorkCounts | undefined
  let cpuSeconds: Record<string, number> = {}
  const checkouts = await runCheckoutStep({
    ...options,
    onMeasuring: () => {
      meter.start()
      countsBefore = options.counters?.read()
      // --read-rate 0 measures checkouts alone: CPU and commits per checkout without browsing.
      reads =
        options.readRatePerSecond > 0
          ? runReadLoad({
              gatewayUrl: options.gatewayUrl,
              paths: options.readPaths,
              durationSeconds: Math.round(options.durationMs / 1000),
              connections: 4,
              ratePerSecond: options.readRatePerSecond,
            })
          : undefined
      return async () => {
        cpuSeconds = meter.stop()
        countsAfter = await options.counters?.read()
      }
    },
  })
  const windowSeconds = (checkouts.measuredToMs - checkouts.measuredFromMs) / 1000
  const confirmedInWindow = Math.round(checkouts.confirmedPerSecond * windowSeconds)
  const shopCpuSeconds = Object.entries(cpuSeconds)
    .filter(([group]) => !NOT_THE_SHOP.has(group))
    .reduce((sum, [, seconds]) => sum + seconds, 0)
  const report: StepReport = {
    kind: options.kind,
    ...checkouts,
    reads: (await reads) ?? NO_READS,
    cpuSeconds: roundValues(cpuSeconds),
    cpuMsPerCheckout: round((shopCpuSeconds * 1000) / confirmedInWindow),
    confirmedInWindow,
  }
  const before = await countsBefore
  if (before && countsAfter) {
    const after = countsAfter
    const commits = Object.fromEntries(
      Object.entries(after.postgresCommits).map(([database, count]) => [
        database,
        count - (before.postgresCommits[database] ?? 0),
      ]),
    )
    const totalCommits = Object.values(commits).reduce((sum, count) => sum + count, 0)
    const events = after.streamMessages - before.streamMessages
    report.postgresCommitsPerSecond = Math.round(totalCommits / windowSeconds)
    report.postgresCommitsPerCheckout = Object.fromEntries(
      Object.entries(commits).map(([database, count]) => [
        database,
        round(count / confirmedInWindow),
      ]),
    )
    report.processorCommitsPerCheckout = round(
      (after.processorWrites - before.processorWrites) / confirmedInWindow,
    )
    report.writeTransactionsPerCheckout = round(
      (after.transactionIds -
        before.transactionIds -
        (after.processorWrites - before.processorWrites)) /
        confirmedInWindow,
    )
    report.eventsPerSecond = Math.round(events / windowSeconds)
    report.eventsPerCheckout = round(events / confirmedInWindow)
    if (before.statements && after.statements) {
      report.statementsPerCheckout = statementCosts(
        before.statements,
        after.statements,
        confirmedInWindow,
      )
    }
  }
  report.overloadedBecause = overloadOf(report)
  return report
}

/** statementCosts is each statement's share of a step per confirmation, the costliest first. */
function statementCosts(
  before: ReadonlyMap<string, StatementCounts>,
  after: ReadonlyMap<string, StatementCounts>,
  confirmed: number,
): StatementCost[] {
  const costs: StatementCost[] = []
  for (const [key, end] of after) {
    const start = before.get(key)
    const calls = end.calls - (start?.calls ?? 0)
    if (calls <= 0) continue
    costs.push({
      database: end.database,
      query: end.query,
      calls: round(calls / confirmed),
      execUs: round(((end.execMs - (start?.execMs ?? 0)) * 1000) / confirmed),
      walRecords: round((end.walRecords - (start?.walRecords ?? 0)) / confirmed),
    })
  }
  return costs.sort((a, b) => b.execUs - a.execUs).slice(0, STATEMENTS_KEPT)
}

/**
 * measureIdleCpu is what each group uses with no load (the shop's timers, sweepers and pollers),
 * in cores: CPU seconds per second.
 */
export async function measureIdleCpu(
  processGroups: ProcessGroup[],
  durationMs: number,
): Promise<Record<string, number>> {
  const meter = new CpuMeter(processGroups)
  meter.start()
  await new Promise((resolve) => setTimeout(resolve, durationMs))
  return Object.fromEntries(
    Object.entries(meter.stop()).map(([group, seconds]) => [
      group,
      round(seconds / (durationMs / 1000)),
    ]),
  )
}

function overloadOf(step: CheckoutStepResult): string | undefined {
  const failed = step.errorCount + step.rejected + step.unsettled
  if (failed > LIMITS.errorShare * step.placed) {
    // A refusal (503/429 from the admission) is an error to the client, but not a fault: say which.
    const refused = step.refused > 0 ? ` of which ${step.refused} refused by admission` : ''
    return `${failed} of ${step.placed} checkouts failed (errors ${step.errorCount}${refused}, rejected ${step.rejected}, unsettled ${step.unsettled})`
  }
  if (step.placedToConfirmed.p99Ms > LIMITS.placedToConfirmedP99Ms) {
    return `p99 placed->CONFIRMED ${step.placedToConfirmed.p99Ms} ms > ${LIMITS.placedToConfirmedP99Ms} ms`
  }
  if (step.confirmedPerSecond < LIMITS.keptUpShare * step.offeredPerSecond) {
    return `confirmed ${step.confirmedPerSecond.toFixed(0)}/s < ${LIMITS.keptUpShare * 100}% of offered ${step.offeredPerSecond}/s`
  }
  return undefined
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000
}

function roundValues(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, round(value)]))
}

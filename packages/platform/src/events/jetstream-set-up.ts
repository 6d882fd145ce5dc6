import { setTimeout as sleep } from 'node:timers/promises'
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream'
import type { Logger } from '../logger.ts'

// SET_UP_ATTEMPTS and SET_UP_RETRY_MS bound the retries of a stream's or consumer's set-up while
// JetStream is busy: waits of 0.5, 1, 1.5 ... 4.5 s, 22.5 s in all, for a cluster whose servers
// start together with the services (the chart's NATS pods).
const SET_UP_ATTEMPTS = 10
const SET_UP_RETRY_MS = 500
// NO_PEERS_FOR_PLACEMENT (10005) is JetStream's answer to a stream asking for more servers than
// have joined the cluster yet: while a cluster starts (the chart's NATS pods) it passes.
const NO_PEERS_FOR_PLACEMENT = 10005

export interface SetUpStep {
  /** what names the thing set up, e.g. `consumer orders-payment-authorized`. */
  what: string
  /**
   * streamEnsured says the step's stream was found or made just before: a consumer's set-up.
   * On a cluster a stream kept on several servers answers "stream not found" (10059) until its
   * group has elected a leader, for a moment after it was made; the step then tries again.
   */
  streamEnsured?: boolean
  /** replicas is how many servers the stream is kept on, for the log. */
  replicas: number
  logger: Logger
  /** server names the server the connection is on, for the log. */
  server: () => string | undefined
  /** retryMs is the first wait; the n-th is n times it. */
  retryMs?: number
}

/**
 * whyClusterBusy tells why a set-up call's failure is one that passes while a cluster starts or
 * settles (undefined for any other): no answer in time, JetStream not ready (503), too few
 * servers yet for the stream's replicas, or, after the stream was ensured, its group without a
 * leader yet.
 */
export function whyClusterBusy(
  error: unknown,
  step: Pick<SetUpStep, 'streamEnsured' | 'replicas'>,
): string | undefined {
  if (error instanceof Error && error.name === 'TimeoutError')
    return 'JetStream did not answer in time'
  if (!(error instanceof JetStreamApiError)) return undefined
  // No peers: the cluster's JetStream meta group has fewer servers than the stream's replicas,
  // which a starting cluster passes through, and one that formed short of its servers stays in
  // (docs/deploy-kubernetes.md, the self-contained install).
  if (error.code === NO_PEERS_FOR_PLACEMENT) {
    return `JetStream has fewer servers than the stream's ${step.replicas} replicas (its meta group's size is in /jsz)`
  }
  if (error.code === JetStreamApiCodes.StreamNotFound && step.streamEnsured) {
    return 'the stream was ensured but its servers do not serve it yet (a leader is being elected)'
  }
  if (error.status === 503) return 'JetStream is busy'
  return undefined
}

/**
 * whileClusterBusy runs a stream's or consumer's set-up again while its failure is one that
 * passes (whyClusterBusy): on a cluster, a stream kept on several servers takes a round of
 * consensus to create, and replicas starting at once all ask together. Each set-up is
 * idempotent, and a later try finds what another replica made meanwhile. The work names its
 * calls past the first (`call('add')`) so that a refusal says which call it answered, and on
 * which server.
 */
export async function whileClusterBusy(
  step: SetUpStep,
  work: (call: (name: string) => void) => Promise<void>,
): Promise<void> {
  const { what, logger, server, retryMs = SET_UP_RETRY_MS } = step
  for (let attempt = 1; ; attempt++) {
    let call = 'info'
    try {
      return await work((next) => (call = next))
    } catch (error) {
      const why = whyClusterBusy(error, step)
      if (why === undefined || attempt >= SET_UP_ATTEMPTS) {
        logger.error({ err: error, attempt, call, server: server() }, `${what}: set-up failed`)
        throw error
      }
      logger.warn({ err: error, attempt, call, server: server() }, `${what}: ${why}; trying again`)
      await sleep(retryMs * attempt)
    }
  }
}

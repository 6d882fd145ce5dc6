import type { AdmissionCapacity } from '@microshop/platform/http/admission-capacity'

// STALE_MS is how old the last word on an upstream's room may be before one request is sent
// anyway to learn it again (one per STALE_MS), and how long a replica's word on what it is still
// working on counts.
const STALE_MS = 1_000

/**
 * EdgeAdmission keeps the gateway from forwarding work that its upstream would refuse. Past
 * saturation, orders' admission control refuses a checkout in well under a millisecond, but the
 * refusal waits its turn on orders' busy event loop (hundreds of milliseconds at 3x saturation);
 * refused here, it costs a client nothing of that.
 *
 * Each answer from the upstream says how much room it has as it leaves (`Admission-Capacity`):
 * its free places, how many requests it admitted and is still working on, and how fast places
 * free up. The requests sent and not answered yet are either among those (their places already
 * taken) or not decided yet; so the room now is the latest free places, less the requests
 * pending beyond what the replicas heard from are still working on. A request goes on while there
 * is a place for it, and is refused otherwise. Places that free up are learnt from the next
 * answer, not foreseen: a request sent on a foreseen place could reach the upstream before the
 * place is free there, and wait on its event loop only to be refused. Only with nothing pending,
 * when no answer is on its way, are places counted as freeing at the rate the upstream said. An
 * upstream that sends no such header is not limited here.
 *
 * With several gateway replicas each counts only what it sent itself, so together they may send
 * more than the room: the upstream refuses that excess, as it would without this.
 */
export class EdgeAdmission {
  private readonly pending = new Set<object>()
  private free = 0
  private settlingPerSecond = 0
  private reportedAt = 0
  private readonly placingBy = new Map<string, { placing: number; at: number }>()
  private probedAt = Number.NEGATIVE_INFINITY
  private limiting = false

  constructor(private readonly now: () => number = () => performance.now()) {}

  /**
   * forward decides for one request: true when it may go on to the upstream (then `answered` or
   * `closed` must follow), false when the upstream has no room for it.
   */
  forward(request: object): boolean {
    if (this.limiting && this.room() < 1 && !this.probeDue()) return false
    this.pending.add(request)
    return true
  }

  /**
   * answered takes the upstream's word on its room from its answer to `request`, one that
   * `forward` let through (others are not asked about); no word at all (undefined) means the
   * upstream does not bound its work, and nothing is held.
   */
  answered(request: object, capacity: AdmissionCapacity | undefined): void {
    if (!this.pending.delete(request)) return
    if (capacity === undefined) {
      this.limiting = false
      return
    }
    this.limiting = true
    const now = this.now()
    this.free = capacity.free
    this.settlingPerSecond = capacity.settlingPerSecond
    this.reportedAt = now
    this.placingBy.set(capacity.replica ?? '', { placing: capacity.placing, at: now })
  }

  /** closed ends a forwarded request that got no answer from the upstream (or any answer). */
  closed(request: object): void {
    this.pending.delete(request)
  }

  // room is the places free now: what the upstream last said, less the requests pending that it
  // has not decided on yet; with none pending, plus the places freed since it said so.
  private room(): number {
    const now = this.now()
    let placing = 0
    for (const [replica, word] of this.placingBy) {
      if (now - word.at > STALE_MS) this.placingBy.delete(replica)
      else placing += word.placing
    }
    const undecided = Math.max(0, this.pending.size - placing)
    const settledSince =
      this.pending.size > 0 ? 0 : (this.settlingPerSecond * (now - this.reportedAt)) / 1000
    return this.free - undecided + settledSince
  }

  private probeDue(): boolean {
    const now = this.now()
    if (now - this.reportedAt < STALE_MS || now - this.probedAt < STALE_MS) return false
    this.probedAt = now
    return true
  }
}

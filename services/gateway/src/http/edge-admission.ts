import type { AdmissionCapacity } from '@microshop/platform/http/admission-capacity'

// STALE_MS is how old the last word on an upstream's room may be before one request is sent
// anyway to learn it again (one per STALE_MS): the room it reported may have been taken by work
// that then settled, at a rate it did not know yet.
const STALE_MS = 1_000

/**
 * EdgeAdmission keeps the gateway from forwarding work that its upstream would refuse. Past
 * saturation, orders' admission control refuses a checkout in well under a millisecond, but the
 * refusal waits its turn on orders' busy event loop (hundreds of milliseconds at 3x saturation);
 * refused here, it costs a client nothing of that.
 *
 * Each answer from the upstream says how much room it had (`Admission-Capacity`): free places as
 * of that request's arrival, and how fast places free up. Checkouts are numbered as they are
 * sent; the room now is the free places of the latest answer, less what was sent from that
 * request on, plus what settled since the answer came. A checkout goes on while there is a place
 * for it, and is refused otherwise. An upstream that sends no such header is not limited here.
 *
 * With several gateway replicas each counts only what it sent itself, so together they may send
 * more than the room: the upstream refuses that excess, as it would without this.
 */
export class EdgeAdmission {
  private sent = 0
  private reportedUpTo = 0
  private free = 0
  private settlingPerSecond = 0
  private reportedAt = 0
  private probedAt = Number.NEGATIVE_INFINITY
  private limiting = false

  constructor(private readonly now: () => number = () => performance.now()) {}

  /**
   * forward decides for one request: its number (for `answered`) when it may go on to the
   * upstream, undefined when the upstream has no room for it.
   */
  forward(): number | undefined {
    if (this.limiting && this.room() < 1 && !this.probeDue()) return undefined
    this.sent++
    return this.sent
  }

  /**
   * answered takes the upstream's word on its room from the answer to request `sequence`;
   * no word at all (undefined) means the upstream does not bound its work, and nothing is held.
   */
  answered(sequence: number, capacity: AdmissionCapacity | undefined): void {
    if (capacity === undefined) {
      this.limiting = false
      return
    }
    this.limiting = true
    // Answers come back out of order: one to an earlier request says less than the one held.
    if (sequence - 1 < this.reportedUpTo) return
    this.reportedUpTo = sequence - 1
    this.free = capacity.free
    this.settlingPerSecond = capacity.settlingPerSecond
    this.reportedAt = this.now()
  }

  // room is the places free now: what the upstream last said, less the requests sent since the
  // one it answered (that one included), plus the places freed since.
  private room(): number {
    const settledSince = (this.settlingPerSecond * (this.now() - this.reportedAt)) / 1000
    return this.free - (this.sent - this.reportedUpTo) + settledSince
  }

  private probeDue(): boolean {
    const now = this.now()
    if (now - this.reportedAt < STALE_MS || now - this.probedAt < STALE_MS) return false
    this.probedAt = now
    return true
  }
}

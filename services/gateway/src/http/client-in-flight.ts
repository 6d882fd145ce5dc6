import type { FastifyReply, FastifyRequest } from 'fastify'
import { rateLimited } from '@microshop/platform/errors'
import { clientKey } from './client-address.ts'

/**
 * inFlightLimit gives the onRequest hook that bounds how many requests one client may have open
 * at once: past `maxInFlight`, a 429 with `Retry-After: 1`, before anything else is done. Open
 * means until the response is sent or the connection closes, so a client that sends slowly (or
 * never reads) holds its own budget and no one else's.
 */
export function inFlightLimit(maxInFlight: number) {
  const open = new Map<string, number>()
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const key = clientKey(request)
    const count = open.get(key) ?? 0
    if (count >= maxInFlight) {
      throw rateLimited('Too many requests in flight from this address.', 1)
    }
    open.set(key, count + 1)
    reply.raw.once('close', () => {
      const left = (open.get(key) ?? 1) - 1
      if (left > 0) open.set(key, left)
      else open.delete(key)
    })
  }
}

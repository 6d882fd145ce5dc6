import { isIPv6 } from 'node:net'
import type { FastifyRequest } from 'fastify'

/**
 * clientAddress is the address of the client as the gateway sees it: the connection's, or what
 * the trusted proxies in front say (TRUST_PROXY). A request whose connection is already gone
 * has none: it is `unknown`, one client for the limits like any other.
 */
export function clientAddress(request: Pick<FastifyRequest, 'ip' | 'socket'>): string {
  // Fastify types `ip` as a string, but it is undefined once the connection is gone.
  const ip: string | undefined = request.ip
  return ip ?? request.socket.remoteAddress ?? 'unknown'
}

/**
 * clientKey is what the per-client limits count by: the address, except that an IPv6 client is
 * its /64 (one subscriber's network hands out any number of addresses within it), and an
 * IPv4-mapped IPv6 address is the IPv4 address it maps.
 */
export function clientKey(request: FastifyRequest): string {
  const address = clientAddress(request)
  if (!isIPv6(address)) return address
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped?.[1]) return mapped[1]
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`
}

// expandIPv6 gives the eight groups of an IPv6 address, `::` filled in (a zone id dropped).
function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.split('::')
  const groups = (part: string) => (part === '' ? [] : part.split(':'))
  if (tail === undefined) return groups(head)
  const known = [...groups(head), ...groups(tail)]
  return [...groups(head), ...Array<string>(8 - known.length).fill('0'), ...groups(tail)]
}

import { STATUS_CODES } from 'node:http'
import type { ErrorKind } from '../errors.ts'

/** ProblemType is one kind of error answer: its status, title, the error kind behind it and when. */
export interface ProblemType {
  status: number
  title: string
  kind?: ErrorKind
  when: string
}

/**
 * problemTypes are every problem the shop answers with. A problem's `type` is `/problems/<slug>`
 * (problemTypeUri), a page every service and the gateway serve (registerProblemTypeRoutes), so
 * the reference resolves against the address that answered; docs/problems.md lists the same.
 */
export const problemTypes: readonly ProblemType[] = [
  {
    status: 400,
    title: 'Invalid request',
    kind: 'invalid',
    when: 'The request does not pass validation; `errors[]` says where, as `{ pointer, detail }`.',
  },
  {
    status: 401,
    title: 'Unauthorized',
    kind: 'unauthorized',
    when: 'No, bad or expired credentials; the answer carries `WWW-Authenticate: Bearer`.',
  },
  {
    status: 403,
    title: 'Forbidden',
    kind: 'forbidden',
    when: 'Signed in, but this role may not do this.',
  },
  {
    status: 404,
    title: 'Not found',
    kind: 'not_found',
    when: 'No such thing, or it belongs to someone else.',
  },
  {
    status: 405,
    title: 'Method not allowed',
    when: 'The path exists, but not with this method.',
  },
  {
    status: 406,
    title: 'Not acceptable',
    when: 'The request asks for a media type the shop does not answer in.',
  },
  {
    status: 408,
    title: 'Request timeout',
    when: 'The request (headers and body) did not arrive in time; the connection is closed.',
  },
  {
    status: 409,
    title: 'Conflict',
    kind: 'conflict',
    when:
      'The state does not allow it: a duplicate, a request with the same Idempotency-Key still ' +
      'in flight, or pending orders that already hold too much of a product.',
  },
  {
    status: 413,
    title: 'Payload too large',
    when: 'The body is over the size limit.',
  },
  {
    status: 414,
    title: 'URI too long',
    when: 'The request target is over the length limit.',
  },
  {
    status: 415,
    title: 'Unsupported media type',
    when: 'The body is not JSON.',
  },
  {
    status: 422,
    title: 'Unprocessable request',
    kind: 'unprocessable',
    when:
      'Well-formed but not acceptable: an unknown product, or an Idempotency-Key reused with ' +
      'another body.',
  },
  {
    status: 429,
    title: 'Too many requests',
    kind: 'rate_limited',
    when:
      'Throttled: the rate limit, the sign-in throttle, requests in flight per client or too ' +
      'many pending orders; the answer carries `Retry-After` (seconds).',
  },
  {
    status: 431,
    title: 'Request header fields too large',
    when: 'The request headers are too large; the connection is closed.',
  },
  {
    status: 500,
    title: 'Internal server error',
    when: 'A fault on our side; the details are in the log under the request id.',
  },
  {
    status: 502,
    title: 'Bad gateway',
    when: 'The gateway got a broken answer from a service.',
  },
  {
    status: 503,
    title: 'Service unavailable',
    kind: 'unavailable',
    when:
      'A service, or a database or broker it needs, is down, restarting, shutting down or too ' +
      'busy; the answer carries `Retry-After` (seconds).',
  },
  {
    status: 504,
    title: 'Gateway timeout',
    when: 'A service did not answer the gateway in time.',
  },
]

const PROBLEM_TYPES_PATH = '/problems'

/** problemSlug is a type's name in its URI: its title in lower case, words joined by dashes. */
export function problemSlug(title: string): string {
  return title.toLowerCase().replaceAll(' ', '-')
}

/** problemTypeUri is the `type` of a problem with this status: `/problems/not-found`. */
export function problemTypeUri(status: number): string {
  const known = problemTypes.find((type) => type.status === status)
  return `${PROBLEM_TYPES_PATH}/${problemSlug(known?.title ?? `status ${status}`)}`
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c)
// Inline code in the texts above is written as in Markdown.
const html = (text: string) => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>')

function page(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)} · microshop problem types</title>`,
    body,
    '</html>',
    '',
  ].join('\n')
}

const INTRO =
  'Every error answer of the microshop API is an RFC 9457 problem (`application/problem+json`): ' +
  '`type` (this page), `title`, `status`, `detail` (this case), `instance` (the public path of ' +
  'the request) and, for a 400, `errors[]` of `{ pointer, detail }`, where `pointer` is the part ' +
  'of the request as OpenAPI names it (`body`, `query`, `path`, `header`) followed by a JSON ' +
  'pointer into it: `/body/items/0/quantity`, `/query/limit`, `/path/id`, `/header/idempotency-key`.'

// otherStatus is the type of a status outside the list (`/problems/status-418`): the HTTP status.
function otherStatus(slug: string): ProblemType | undefined {
  const status = Number(/^status-([1-5]\d\d)$/.exec(slug)?.[1])
  const reason = STATUS_CODES[status]
  if (reason === undefined) return undefined
  return { status, title: `Status ${status}`, when: `HTTP's ${reason}.` }
}

/**
 * problemTypePage is the HTML page of a problem type's URI (`/problems/not-found`), or undefined
 * for a slug that names none. `/problems` itself lists every type.
 */
export function problemTypePage(slug: string | undefined): string | undefined {
  if (slug === undefined) {
    const rows = problemTypes.map(
      (type) =>
        `<li><a href="${PROBLEM_TYPES_PATH}/${problemSlug(type.title)}">${type.status} ${escapeHtml(type.title)}</a>: ${html(type.when)}</li>`,
    )
    return page(
      'Problem types',
      `<h1>Problem types</h1>\n<p>${html(INTRO)}</p>\n<ul>\n${rows.join('\n')}\n</ul>`,
    )
  }
  const type =
    problemTypes.find((candidate) => problemSlug(candidate.title) === slug) ?? otherStatus(slug)
  if (type === undefined) return undefined
  return page(
    type.title,
    [
      `<h1>${escapeHtml(type.title)}</h1>`,
      `<p>HTTP status <strong>${type.status}</strong>. ${html(type.when)}</p>`,
      `<p>${html(INTRO)}</p>`,
      `<p><a href="${PROBLEM_TYPES_PATH}">Every problem type</a></p>`,
    ].join('\n'),
  )
}

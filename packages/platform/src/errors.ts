/**
 * ErrorKind says what went wrong in the caller's terms. Domain code throws an AppError with a
 * kind; the HTTP edge maps kinds to statuses in one place (http/problem.ts) and consumers map
 * `invalid` to a parked message and the rest to a retry.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'rate_limited'
  | 'unavailable'

/** FieldError points at one bad input field: `pointer` is a JSON pointer into the request. */
export interface FieldError {
  pointer: string
  detail: string
}

export interface AppErrorDetails {
  errors?: FieldError[]
  retryAfterSeconds?: number
  /** extensions are extra members for the problem response, e.g. `{ reason: 'out_of_stock' }`. */
  extensions?: Record<string, unknown>
}

/** AppError is an expected failure: its message is safe to show the caller. */
export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly details: AppErrorDetails = {},
  ) {
    super(message)
    this.name = 'AppError'
  }
}

export const invalid = (message: string, errors?: FieldError[]) =>
  new AppError('invalid', message, errors ? { errors } : {})
export const unauthorized = (message = 'Authentication is required.') =>
  new AppError('unauthorized', message)
export const forbidden = (message = 'You may not do this.') => new AppError('forbidden', message)
export const notFound = (message: string) => new AppError('not_found', message)
export const conflict = (message: string, extensions?: Record<string, unknown>) =>
  new AppError('conflict', message, extensions ? { extensions } : {})
export const unprocessable = (message: string, errors?: FieldError[]) =>
  new AppError('unprocessable', message, errors ? { errors } : {})
export const rateLimited = (message: string, retryAfterSeconds: number) =>
  new AppError('rate_limited', message, { retryAfterSeconds })
/** unavailable is a 503: a dependency is away for now; the answer says when to retry (1 s). */
export const unavailable = (message: string, retryAfterSeconds = 1) =>
  new AppError('unavailable', message, { retryAfterSeconds })

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError
}

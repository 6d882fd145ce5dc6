import { invalid, type FieldError } from '@microshop/platform/errors'
import type { Role } from '@microshop/platform/auth/access-token-verifier'

export type { Role }

/** User is an account as callers see it: never with its password hash. */
export interface User {
  id: string
  email: string
  name: string
  role: Role
  createdAt: Date
}

/** Account is a user with what signing in needs. */
export interface Account extends User {
  passwordHash: string
}

export const EMAIL_MAX_LENGTH = 254
export const NAME_MAX_LENGTH = 100
export const PASSWORD_MIN_LENGTH = 8
export const PASSWORD_MAX_LENGTH = 128

// EMAIL_SHAPE is a last check for callers that skip the HTTP schema (the admin from settings):
// one @, no spaces, a dot in the domain. Deliverability is not ours to judge.
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/**
 * normalizeEmail is the form that makes addresses unique and keys the sign-in throttle:
 * `Ann@Example.COM ` and `ann@example.com` are one account.
 */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase()
}

export interface NewAccountInput {
  email: string
  password: string
  name: string
}

/** checkNewAccount applies the account rules and gives the details to store, or throws `invalid`. */
export function checkNewAccount(input: NewAccountInput): NewAccountInput & { emailKey: string } {
  const email = input.email.trim()
  const name = input.name.trim()
  const passwordLength = [...input.password].length
  const errors: FieldError[] = []
  if (email.length > EMAIL_MAX_LENGTH || !EMAIL_SHAPE.test(email)) {
    errors.push({ pointer: '/body/email', detail: 'must be an email address' })
  }
  if (passwordLength < PASSWORD_MIN_LENGTH || passwordLength > PASSWORD_MAX_LENGTH) {
    errors.push({
      pointer: '/body/password',
      detail: `must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters long`,
    })
  }
  if (name.length === 0 || name.length > NAME_MAX_LENGTH) {
    errors.push({
      pointer: '/body/name',
      detail: `must be 1 to ${NAME_MAX_LENGTH} characters long`,
    })
  }
  if (errors.length > 0) throw invalid('The account details are not acceptable.', errors)
  return { email, emailKey: normalizeEmail(email), name, password: input.password }
}

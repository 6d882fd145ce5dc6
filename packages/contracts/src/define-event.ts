import type { Static, TSchema } from 'typebox'
import { Compile, type Validator } from 'typebox/compile'

/** PayloadError is one reason a payload does not match its schema. */
export interface PayloadError {
  path: string
  message: string
}

/**
 * EventDefinition is one event of the contract: its versioned type, the service that produces
 * it, and the schema of its payload, which gives both the TypeScript type and the check that
 * consumers run on receipt.
 */
export interface EventDefinition<Payload extends TSchema = TSchema> {
  readonly type: string
  readonly producer: string
  readonly version: number
  readonly description: string
  readonly payload: Payload
  /** check tells whether `data` is a valid payload; the validator is compiled once, on first use. */
  check(data: unknown): data is Static<Payload>
  errors(data: unknown): PayloadError[]
}

/** EventPayload is the TypeScript type of an event's payload. */
export type EventPayload<Definition> =
  Definition extends EventDefinition<infer Payload> ? Static<Payload> : never

// EVENT_TYPE is `<producer>.<entity>.<fact>.v<version>`: the subject on the broker, too.
const EVENT_TYPE = /^([a-z][a-z0-9]*)\.[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*\.v([1-9][0-9]*)$/

/**
 * defineEvent declares an event. The type must start with its producer and end with its version,
 * so that a breaking change is a new type (`.v2`) published beside the old one.
 */
export function defineEvent<Payload extends TSchema>(options: {
  type: string
  producer: string
  description: string
  payload: Payload
}): EventDefinition<Payload> {
  const match = EVENT_TYPE.exec(options.type)
  if (!match) throw new Error(`Event type ${options.type} is not <producer>.<entity>.<fact>.v<n>`)
  if (match[1] !== options.producer) {
    throw new Error(
      `Event type ${options.type} does not start with its producer ${options.producer}`,
    )
  }
  let validator: Validator | undefined
  const compiled = () => (validator ??= Compile(options.payload))
  return {
    type: options.type,
    producer: options.producer,
    version: Number(match[2]),
    description: options.description,
    payload: options.payload,
    check: (data): data is Static<Payload> => compiled().Check(data),
    errors: (data) =>
      compiled()
        .Errors(data)
        .map((error) => ({ path: error.instancePath || '/', message: error.message })),
  }
}

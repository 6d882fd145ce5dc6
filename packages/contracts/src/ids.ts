import Type from 'typebox'

/** Uuid is the shape of every id in the contract. */
export const Uuid = (description?: string) =>
  Type.String({ format: 'uuid', ...(description ? { description } : {}) })

/** Timestamp is an ISO 8601 UTC time. */
export const Timestamp = (description?: string) =>
  Type.String({ format: 'date-time', ...(description ? { description } : {}) })

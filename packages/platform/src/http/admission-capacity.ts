import { parseDictionary, serializeDictionary, type Dictionary } from 'structured-headers'

/**
 * ADMISSION_CAPACITY_HEADER is how a service that bounds its work in flight tells the gateway how
 * much room it has, on each answer to a request it admits or refuses:
 * `Admission-Capacity: free=3, settling=82.5` (an RFC 9651 dictionary). It is internal: the
 * gateway reads it and takes it off the public answer.
 */
export const ADMISSION_CAPACITY_HEADER = 'admission-capacity'

/** AdmissionCapacity is a service's room for new work, as of the request it answers. */
export interface AdmissionCapacity {
  /** free is how many more requests it would admit now. */
  free: number
  /** settlingPerSecond is how fast the work it admitted finishes, freeing places. */
  settlingPerSecond: number
}

/** formatAdmissionCapacity writes the header's value. */
export function formatAdmissionCapacity(capacity: AdmissionCapacity): string {
  return serializeDictionary({
    free: Math.max(0, Math.floor(capacity.free)),
    settling: Math.max(0, Math.round(capacity.settlingPerSecond * 1000) / 1000),
  })
}

/**
 * parseAdmissionCapacity reads the header's value: undefined when it is missing or not what
 * formatAdmissionCapacity writes (a service that does not bound its work sends none).
 */
export function parseAdmissionCapacity(
  value: string | string[] | undefined,
): AdmissionCapacity | undefined {
  if (value === undefined) return undefined
  let fields: Dictionary
  try {
    fields = parseDictionary(Array.isArray(value) ? value.join(', ') : value)
  } catch {
    return undefined
  }
  const free = numberIn(fields, 'free')
  const settling = numberIn(fields, 'settling')
  if (free === undefined || settling === undefined || free < 0 || settling < 0) return undefined
  return { free, settlingPerSecond: settling }
}

function numberIn(fields: Dictionary, key: string): number | undefined {
  const value: unknown = fields.get(key)?.[0]
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

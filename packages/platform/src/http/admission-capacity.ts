import { parseDictionary, serializeDictionary, type Dictionary } from 'structured-headers'

/**
 * ADMISSION_CAPACITY_HEADER is how a service that bounds its work in flight tells the gateway how
 * much room it has, on each answer to a request it admits or refuses:
 * `Admission-Capacity: free=3, placing=2, settling=82.5, replica="5f0c9a1e"` (an RFC 9651
 * dictionary). It is internal: the gateway reads it and takes it off the public answer.
 */
export const ADMISSION_CAPACITY_HEADER = 'admission-capacity'

/** AdmissionCapacity is a service's room for new work as it sends an answer. */
export interface AdmissionCapacity {
  /** free is how many more requests it would admit now. */
  free: number
  /** placing is how many requests it admitted and is still working on (their places are taken). */
  placing: number
  /** settlingPerSecond is how fast the work it admitted finishes, freeing places. */
  settlingPerSecond: number
  /** replica names the process that answered, where several share the work. */
  replica?: string | undefined
}

/** formatAdmissionCapacity writes the header's value. */
export function formatAdmissionCapacity(capacity: AdmissionCapacity): string {
  return serializeDictionary({
    free: Math.max(0, Math.floor(capacity.free)),
    placing: Math.max(0, Math.floor(capacity.placing)),
    settling: Math.max(0, Math.round(capacity.settlingPerSecond * 1000) / 1000),
    ...(capacity.replica === undefined ? {} : { replica: capacity.replica }),
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
  const placing = numberIn(fields, 'placing') ?? 0
  const settling = numberIn(fields, 'settling')
  if (free === undefined || settling === undefined) return undefined
  if (free < 0 || placing < 0 || settling < 0) return undefined
  const replica: unknown = fields.get('replica')?.[0]
  return {
    free,
    placing,
    settlingPerSecond: settling,
    replica: typeof replica === 'string' ? replica : undefined,
  }
}

function numberIn(fields: Dictionary, key: string): number | undefined {
  const value: unknown = fields.get(key)?.[0]
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

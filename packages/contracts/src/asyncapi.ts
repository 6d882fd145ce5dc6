import { CloudEventSchema } from './envelope.ts'
import type { EventDefinition } from './define-event.ts'

type JsonObject = { [key: string]: unknown }

/** messageName turns `orders.order.placed.v1` into `OrdersOrderPlacedV1`, the components key. */
export function messageName(type: string): string {
  return type
    .split(/[.-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')
}

// plain drops TypeBox's non-JSON members so the document holds JSON Schema only.
const plain = (schema: unknown) => JSON.parse(JSON.stringify(schema)) as JsonObject

/**
 * buildAsyncApi describes every event as an AsyncAPI 3 document: one channel per event type
 * (the NATS subject), one `send` operation by its producer, and the CloudEvents envelope with
 * the payload schema as `data`.
 */
export function buildAsyncApi(
  definitions: readonly EventDefinition[],
  options: { version: string },
): JsonObject {
  const channels: JsonObject = {}
  const operations: JsonObject = {}
  const messages: JsonObject = {}
  const schemas: JsonObject = { CloudEvent: plain(CloudEventSchema) }
  for (const definition of [...definitions].sort((a, b) => a.type.localeCompare(b.type))) {
    const name = messageName(definition.type)
    schemas[`${name}Data`] = plain(definition.payload)
    messages[name] = {
      name,
      title: definition.type,
      summary: definition.description,
      contentType: 'application/json',
      headers: { $ref: '#/components/schemas/EventHeaders' },
      payload: {
        allOf: [
          { $ref: '#/components/schemas/CloudEvent' },
          {
            type: 'object',
            properties: {
              type: { const: definition.type },
              source: { const: `/${definition.producer}` },
              data: { $ref: `#/components/schemas/${name}Data` },
            },
          },
        ],
      },
      'x-producer': definition.producer,
    }
    channels[definition.type] = {
      address: definition.type,
      description: `Stream ${definition.producer.toUpperCase()}. ${definition.description}`,
      messages: { [name]: { $ref: `#/components/messages/${name}` } },
    }
    operations[`${definition.producer}Sends${name}`] = {
      action: 'send',
      summary: `${definition.producer} publishes ${definition.type} from its outbox.`,
      channel: { $ref: `#/channels/${definition.type}` },
      messages: [{ $ref: `#/channels/${definition.type}/messages/${name}` }],
    }
  }
  schemas.EventHeaders = {
    type: 'object',
    properties: {
      'Nats-Msg-Id': { type: 'string', description: 'The event id: JetStream drops duplicates.' },
      traceparent: { type: 'string', description: 'W3C trace context of the producing work.' },
    },
    required: ['Nats-Msg-Id'],
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'microshop events',
      version: options.version,
      description:
        'Every event microshop services exchange, as CloudEvents 1.0 JSON on NATS JetStream. ' +
        'Each producer owns one stream; the subject is the event type, versioned. ' +
        'Generated from packages/contracts by `npm run asyncapi`; do not edit by hand.',
    },
    defaultContentType: 'application/json',
    servers: {
      nats: {
        host: 'nats:4222',
        protocol: 'nats',
        description: 'NATS JetStream: one stream per producer, durable consumers per subscriber.',
      },
    },
    channels,
    operations,
    components: { schemas, messages },
  }
}

/** renderEventCatalog writes the human-readable catalogue of events (docs/events.md). */
export function renderEventCatalog(definitions: readonly EventDefinition[]): string {
  const lines = [
    '# Events',
    '',
    '<!-- Generated from packages/contracts by `npm run asyncapi`; do not edit by hand. -->',
    '',
    'Every event is a CloudEvents 1.0 JSON envelope (`specversion`, `id`, `source`, `type`, `time`,',
    '`datacontenttype`, `subject` = the aggregate id, `traceparent`, `data`). The subject on NATS is',
    'the event type; each producer owns one stream. The machine-readable form is',
    '[asyncapi.json](asyncapi.json).',
    '',
  ]
  const byProducer = new Map<string, EventDefinition[]>()
  for (const definition of definitions) {
    byProducer.set(definition.producer, [
      ...(byProducer.get(definition.producer) ?? []),
      definition,
    ])
  }
  for (const [producer, events] of [...byProducer].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`## ${producer}`, '')
    for (const definition of events) {
      lines.push(`### \`${definition.type}\``, '', definition.description, '')
      lines.push('| field | type | required | notes |', '| --- | --- | --- | --- |')
      for (const row of fieldRows(plain(definition.payload), '')) lines.push(row)
      lines.push('')
    }
  }
  return lines.join('\n')
}

function fieldRows(schema: JsonObject, prefix: string): string[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonObject>
  const required = new Set((schema.required ?? []) as string[])
  const rows: string[] = []
  for (const [key, property] of Object.entries(properties)) {
    const path = `${prefix}${key}`
    const notes = [property.format, property.description].filter(Boolean).join('; ')
    rows.push(
      `| \`${path}\` | ${describeType(property)} | ${required.has(key) ? 'yes' : 'no'} | ${notes} |`,
    )
    if (property.type === 'object') rows.push(...fieldRows(property, `${path}.`))
    const items = property.items as JsonObject | undefined
    if (property.type === 'array' && items?.type === 'object') {
      rows.push(...fieldRows(items, `${path}[].`))
    }
  }
  return rows
}

function describeType(schema: JsonObject): string {
  if (schema.anyOf) {
    return (schema.anyOf as JsonObject[])
      .map((option) => `\`${String(option.const)}\``)
      .join(' \\| ')
  }
  if (schema.type === 'array') return `${describeType((schema.items ?? {}) as JsonObject)}[]`
  return String(schema.type)
}

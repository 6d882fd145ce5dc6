import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { allEvents } from './all-events.ts'
import { buildAsyncApi } from './asyncapi.ts'
import { renderedEventDocs } from './event-docs.ts'

describe('the AsyncAPI document', () => {
  it('when the definitions change, then the checked-in documents must be regenerated (npm run asyncapi)', async () => {
    for (const [path, expected] of Object.entries(await renderedEventDocs())) {
      const actual = await readFile(path, 'utf8').catch(() => '')
      expect(actual, `${path} is stale: run npm run asyncapi`).toBe(expected)
    }
  })

  it('has one channel and one send operation per event, each referring to existing components', () => {
    const document = buildAsyncApi(allEvents, { version: '1.0.0' }) as {
      channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>
      operations: Record<string, { action: string; channel: { $ref: string } }>
      components: { messages: Record<string, unknown>; schemas: Record<string, unknown> }
    }
    expect(Object.keys(document.channels).sort()).toEqual(allEvents.map((e) => e.type).sort())
    expect(Object.keys(document.operations)).toHaveLength(allEvents.length)
    for (const operation of Object.values(document.operations)) {
      expect(operation.action).toBe('send')
      expect(document.channels[operation.channel.$ref.replace('#/channels/', '')]).toBeDefined()
    }
    for (const channel of Object.values(document.channels)) {
      for (const message of Object.values(channel.messages)) {
        const name = message.$ref.replace('#/components/messages/', '')
        expect(document.components.messages[name]).toBeDefined()
        expect(document.components.schemas[`${name}Data`]).toBeDefined()
      }
    }
  })
})

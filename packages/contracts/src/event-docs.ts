import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { format, resolveConfig } from 'prettier'
import { allEvents } from './all-events.ts'
import { buildAsyncApi, renderEventCatalog } from './asyncapi.ts'

/**
 * renderedEventDocs is every generated document, by absolute path: what `npm run asyncapi`
 * writes. The text goes through prettier, so `prettier --write docs` leaves it as generated.
 */
export async function renderedEventDocs(): Promise<Record<string, string>> {
  const { version } = JSON.parse(
    await readFile(new URL('../package.json', import.meta.url), 'utf8'),
  ) as { version: string }
  const asyncapi = docsPath('asyncapi.json')
  const events = docsPath('events.md')
  return {
    [asyncapi]: await formatted(asyncapi, JSON.stringify(buildAsyncApi(allEvents, { version }))),
    [events]: await formatted(events, renderEventCatalog(allEvents)),
  }
}

function docsPath(name: string): string {
  return fileURLToPath(new URL(`../../../docs/${name}`, import.meta.url))
}

async function formatted(path: string, text: string): Promise<string> {
  return format(text, { ...(await resolveConfig(path)), filepath: path })
}

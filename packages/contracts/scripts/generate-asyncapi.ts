// generate-asyncapi writes docs/asyncapi.json and docs/events.md from the event definitions;
// asyncapi.test.ts fails when the checked-in files differ from what it would write.
import { writeFile } from 'node:fs/promises'
import { renderedEventDocs } from '../src/event-docs.ts'

for (const [path, text] of Object.entries(await renderedEventDocs())) {
  await writeFile(path, text)
  console.log(`wrote ${path}`)
}

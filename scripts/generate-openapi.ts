// generate-openapi.ts (`npm run openapi`): writes docs/openapi.json, the merged OpenAPI document the
// gateway serves, and services/web/src/api/openapi-types.ts, the storefront's types made from it.
import { writeFile } from 'node:fs/promises'
import { relative } from 'node:path'
import { renderedOpenapiFiles, servedOpenapiDocument } from './openapi-documents.ts'

for (const [path, text] of Object.entries(
  await renderedOpenapiFiles(await servedOpenapiDocument()),
)) {
  await writeFile(path, text)
  console.log(`wrote ${relative(process.cwd(), path)}`)
}

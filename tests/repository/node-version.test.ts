// The Node version is stated in four places that must agree: .nvmrc (what CI installs and tests
// on), engines in package.json (what npm checks), @types/node (the APIs the code may use) and the
// images' FROM node:<major> (what the shop runs on in containers).
import { readdir, readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url)
const read = (path: string) => readFile(new URL(path, root), 'utf8')
const major = (version: string) => Number(/(\d+)/.exec(version)?.[1])

describe('the Node version', () => {
  it('when .nvmrc, engines, @types/node and every image name a Node, then it is one major', async () => {
    const nvmrc = major(await read('.nvmrc'))
    const manifest = JSON.parse(await read('package.json')) as {
      engines: { node: string }
      devDependencies: Record<string, string>
    }
    const services = await readdir(new URL('services/', root))
    const imageMajors = await Promise.all(
      services.map(async (service) => {
        const dockerfile = await read(`services/${service}/Dockerfile`).catch(() => '')
        return [...dockerfile.matchAll(/^FROM node:(\d+)/gm)].map((match) => Number(match[1]))
      }),
    )
    expect(Number.isInteger(nvmrc)).toBe(true)
    expect(manifest.engines.node).toBe(`>=${nvmrc}`)
    expect(major(manifest.devDependencies['@types/node'] ?? '')).toBe(nvmrc)
    expect(imageMajors.flat().length).toBeGreaterThanOrEqual(5)
    for (const imageMajor of imageMajors.flat()) expect(imageMajor).toBe(nvmrc)
  })

  it('when the suite runs, then it runs on a Node the project supports', async () => {
    expect(major(process.version)).toBeGreaterThanOrEqual(major(await read('.nvmrc')))
  })
})

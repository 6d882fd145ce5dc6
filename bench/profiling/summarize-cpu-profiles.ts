// bench/profiling/summarize-cpu-profiles.ts (`node --import tsx bench/profiling/summarize-cpu-profiles.ts DIR`)
// says where each service spent its CPU in the V8 profiles `npm run bench -- --cpu-prof DIR`
// wrote: self time by package (a dependency, a microshop workspace, Node's internals, the garbage
// collector), and the functions with the most self time.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
}

/** packageOf names where a frame's code lives, coarsely enough to add up. */
function packageOf(frame: ProfileNode['callFrame']): string {
  if (frame.functionName === '(garbage collector)') return '(garbage collector)'
  if (frame.functionName.startsWith('(')) return frame.functionName
  const url = frame.url
  if (url === '') return '(native / V8 builtins)'
  if (url.startsWith('node:')) return 'node internals'
  const modules = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (modules) return modules[1] as string
  const workspace = /\/(services|packages)\/([^/]+)\/src\/(.+)$/.exec(url)
  if (workspace) return `${workspace[1]}/${workspace[2]}/${workspace[3]}`
  return url.replace(/^file:\/\//, '')
}

function summarize(profile: CpuProfile, top: number): string[] {
  const sampleMs =
    (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length)
  const hits = new Map<number, number>()
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1)
  const byPackage = new Map<string, number>()
  const byFunction = new Map<string, number>()
  let busyMs = 0
  for (const node of profile.nodes) {
    const ms = (hits.get(node.id) ?? 0) * sampleMs
    if (ms === 0 || node.callFrame.functionName === '(idle)') continue
    busyMs += ms
    const where = packageOf(node.callFrame)
    byPackage.set(where, (byPackage.get(where) ?? 0) + ms)
    const name = `${node.callFrame.functionName || '(anonymous)'}  ${where}:${node.callFrame.lineNumber + 1}`
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms)
  }
  const rows = (entries: Map<string, number>) =>
    [...entries]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([name, ms]) =>
          `    ${((ms / busyMs) * 100).toFixed(1).padStart(5)}%  ${Math.round(ms).toString().padStart(6)} ms  ${name}`,
      )
  return [
    `  busy ${Math.round(busyMs)} ms of ${Math.round((profile.endTime - profile.startTime) / 1000)} ms profiled`,
    '  self time by package or file:',
    ...rows(byPackage),
    '  self time by function:',
    ...rows(byFunction),
  ]
}

const directory = process.argv[2]
if (!directory) {
  console.error('usage: node --import tsx bench/profiling/summarize-cpu-profiles.ts DIR [TOP]')
  process.exit(2)
}
const top = Number(process.argv[3] ?? 15)
const files = (await readdir(directory)).filter((file) => file.endsWith('.cpuprofile')).sort()
for (const file of files) {
  const profile = JSON.parse(await readFile(join(directory, file), 'utf8')) as CpuProfile
  console.log(`${file}`)
  console.log(summarize(profile, top).join('\n'))
  console.log('')
}

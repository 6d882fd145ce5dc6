// scripts/test-busy.ts (`npm run test:busy`): the whole suite on a busy machine, as a user's
// laptop or a shared CI runner is. It runs `vitest run` while CPU burners keep cores busy: by
// default once quiet (for the wall time to compare with), three times with one core burning and
// once with every core burning, and prints a table. Any failure fails the script.
//   npm run test:busy                      # quiet, 3 x one burner, 1 x all cores
//   npm run test:busy -- --runs 1 --no-quiet
import { spawn, type ChildProcess } from 'node:child_process'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    quiet: { type: 'boolean', default: true },
    'all-cores': { type: 'boolean', default: true },
  },
  allowNegative: true,
})

interface Phase {
  label: string
  burners: number
}

const cores = cpus().length
const phases: Phase[] = [
  ...(args.quiet ? [{ label: 'quiet', burners: 0 }] : []),
  ...Array.from({ length: Number(args.runs) }, (_, n) => ({
    label: `one core busy (${n + 1})`,
    burners: 1,
  })),
  ...(args['all-cores'] ? [{ label: `all ${cores} cores busy`, burners: cores }] : []),
]

/** burn keeps one core busy until killed: a plain loop, at the suite's own priority. */
function burn(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' })
}

async function runSuite(): Promise<{ code: number; summary: string }> {
  const child = spawn('npx', ['vitest', 'run'], { stdio: ['ignore', 'pipe', 'inherit'] })
  let tail = ''
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk)
    tail = (tail + chunk.toString()).slice(-4_000)
  })
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)))
  // vitest's own summary lines, without their colours.
  // eslint-disable-next-line no-control-regex
  const plain = tail.replace(/\x1b\[[0-9;]*m/g, '')
  const summary = [...plain.matchAll(/^\s*(Test Files|Tests)\s+(.*)$/gm)]
    .map((match) => `${match[1]}: ${match[2]?.trim()}`)
    .join('; ')
  return { code, summary }
}

const results: { phase: Phase; seconds: number; code: number; summary: string }[] = []
for (const phase of phases) {
  console.error(`\n[test:busy] ${phase.label}: vitest run with ${phase.burners} burner(s)`)
  const burners = Array.from({ length: phase.burners }, burn)
  const started = performance.now()
  try {
    const { code, summary } = await runSuite()
    results.push({ phase, seconds: (performance.now() - started) / 1000, code, summary })
  } finally {
    for (const burner of burners) burner.kill('SIGKILL')
  }
}

console.log('\ntest:busy results')
for (const { phase, seconds, code, summary } of results) {
  console.log(
    `  ${phase.label.padEnd(22)} ${`${seconds.toFixed(0)} s`.padStart(7)}  ${code === 0 ? 'pass' : 'FAIL'}  ${summary}`,
  )
}
process.exitCode = results.every((result) => result.code === 0) ? 0 : 1

// bench/profiling/write-cpu-profile-on-exit.ts is preloaded into each service by
// `npm run bench -- --cpu-prof DIR` (NODE_OPTIONS, where Node 20 refuses --cpu-prof itself): it
// starts V8's sampling profiler at once and writes the profile to CPU_PROFILE_DIR when the
// process exits, as --cpu-prof does. The inspector session answers synchronously, so this works
// inside an `exit` handler.
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { basename, join } from 'node:path'

const directory = process.env.CPU_PROFILE_DIR
if (directory) {
  const session = new Session()
  session.connect()
  session.post('Profiler.enable')
  session.post('Profiler.start')
  // The service's name from services/<name>/..., else the script's (embedded-shop).
  const script = process.argv[1] ?? 'node'
  const service = /services\/([^/]+)\//.exec(script)?.[1] ?? basename(script).replace(/\.\w+$/, '')
  process.on('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (error) return
      writeFileSync(
        join(directory, `${service}-${process.pid}.cpuprofile`),
        JSON.stringify(result.profile),
      )
    })
  })
}

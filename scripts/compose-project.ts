// compose-project.ts: a `docker compose` project driven from TypeScript: its commands, its
// containers' health, and how long each service took to get ready. The compose test
// (scripts/compose-test.ts) and its suites (tests/compose) use it.
import { spawn } from 'node:child_process'

export interface Ran {
  code: number
  /** output is stdout and stderr together; empty when they went to the terminal. */
  output: string
}

export interface RunOptions {
  timeoutMs: number
  env?: Record<string, string>
  /** inherit sends the command's output to this process's, as it comes. */
  inherit?: boolean
}

/** run runs a command to its end (killing it after `timeoutMs`); it never throws. */
export function run(command: string, args: string[], options: RunOptions): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ['ignore', options.inherit ? 'inherit' : 'pipe', options.inherit ? 'inherit' : 'pipe'],
      env: { ...process.env, ...options.env },
    })
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const timer = setTimeout(() => {
      output += `\n(killed after ${options.timeoutMs} ms)`
      child.kill('SIGKILL')
    }, options.timeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      resolve({ code: -1, output: `${output}${error.message}` })
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? -1, output })
    })
  })
}

/** docker runs a docker command and returns its output; on failure it throws with the output's tail. */
export async function docker(args: string[], options: Partial<RunOptions> = {}): Promise<string> {
  const ran = await run('docker', args, { timeoutMs: 60_000, ...options })
  if (ran.code !== 0) {
    const tail = ran.output.trim().split('\n').slice(-30).join('\n')
    throw new Error(`docker ${args.join(' ')} exited ${ran.code}:\n${tail}`)
  }
  return ran.output
}

export interface ComposeProject {
  /** compose runs `docker compose` for this project in the current folder (compose.yaml's). */
  compose(args: string[], options?: Partial<RunOptions>): Promise<string>
  /** publishedUrl is `http://127.0.0.1:<host port>` for a service's published container port. */
  publishedUrl(service: string, port: number): Promise<string>
  /** containerId is the id of a service's (only) container, running or not. */
  containerId(service: string): Promise<string>
  waitUntilHealthy(service: string, withinMs: number): Promise<void>
  /**
   * readyMs is the time from a service's container's last start to its "service listening" log
   * line: a service listens only once its migrations ran and its database and broker answered.
   */
  readyMs(service: string): Promise<number | undefined>
}

/**
 * composeProject drives the project `name`; without one, the project compose itself picks:
 * COMPOSE_PROJECT_NAME when set, else the `name:` in compose.yaml.
 */
export function composeProject(name?: string): ComposeProject {
  const project = name ? ['-p', name] : []
  const compose = (args: string[], options?: Partial<RunOptions>) =>
    docker(['compose', '--progress', 'plain', ...project, ...args], options)
  const containerId = async (service: string) => {
    const id = (await compose(['ps', '-aq', service])).trim()
    if (!/^[0-9a-f]+$/.test(id)) throw new Error(`no single container for ${service}: ${id}`)
    return id
  }
  return {
    compose,
    async publishedUrl(service, port) {
      const published = (await compose(['port', service, String(port)])).trim() // 0.0.0.0:8080
      return `http://127.0.0.1:${published.slice(published.lastIndexOf(':') + 1)}`
    },
    containerId,
    async waitUntilHealthy(service, withinMs) {
      const id = await containerId(service)
      const deadline = Date.now() + withinMs
      for (;;) {
        const health = (await docker(['inspect', '-f', '{{.State.Health.Status}}', id])).trim()
        if (health === 'healthy') return
        if (Date.now() > deadline) throw new Error(`${service} is ${health} after ${withinMs} ms`)
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    },
    async readyMs(service) {
      const id = await containerId(service)
      const startedAt = Date.parse(
        (await docker(['inspect', '-f', '{{.State.StartedAt}}', id])).trim(),
      )
      const listening = (await docker(['logs', id]))
        .split('\n')
        .flatMap((line) => {
          try {
            const entry = JSON.parse(line) as { msg?: unknown; time?: unknown }
            const listens = typeof entry.msg === 'string' && entry.msg.endsWith('service listening')
            return listens ? [new Date(entry.time as string | number).getTime()] : []
          } catch {
            return [] // not a JSON log line
          }
        })
        .filter((time) => time >= startedAt)
        .at(-1)
      return listening === undefined ? undefined : listening - startedAt
    },
  }
}

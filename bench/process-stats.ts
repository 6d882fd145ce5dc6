// bench/process-stats.ts reads what Linux says about processes in /proc: CPU time used, resident
// memory, when each started, and which processes belong to the shop, Postgres and NATS. The
// benchmark runs on Linux (the target machine); elsewhere these figures are reported as missing.
import { readdirSync, readFileSync } from 'node:fs'

// CLOCK_TICKS_PER_SECOND is USER_HZ, which Linux fixes at 100 on every architecture it runs on.
const CLOCK_TICKS_PER_SECOND = 100

export const procAvailable = (() => {
  try {
    readFileSync('/proc/self/stat')
    return true
  } catch {
    return false
  }
})()

interface ProcStat {
  parentPid: number
  cpuTicks: number
  startTicks: number
}

/** readStat parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so split after the last `)`. */
function readStat(pid: number): ProcStat | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  // After the name: state(3) ppid(4) ... utime(14) stime(15) ... starttime(22), 1-based in proc(5).
  return {
    parentPid: Number(fields[1]),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
    startTicks: Number(fields[19]),
  }
}

function readCommandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()
  } catch {
    return ''
  }
}

function readName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim()
  } catch {
    return ''
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
}

/** cpuSeconds is the user + system CPU time a process has used so far. */
export function cpuSeconds(pid: number): number | undefined {
  const stat = readStat(pid)
  return stat && stat.cpuTicks / CLOCK_TICKS_PER_SECOND
}

/**
 * rssBytes is a process's resident memory: all of it (VmRSS), or only its private, anonymous
 * part (RssAnon: heap, stacks, malloc), without the file pages it maps, such as the node binary's
 * code, which every node process on the machine shares.
 */
export function rssBytes(pid: number, part: 'VmRSS' | 'RssAnon' = 'VmRSS'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = new RegExp(`^${part}:\\s+(\\d+) kB$`, 'm').exec(status)
    return match ? Number(match[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

/**
 * startedAtMs is when a process started, on this process's performance.now() clock (10 ms
 * resolution): both clocks are read from the system's uptime, so they can be compared.
 */
export function startedAtMs(pid: number): number | undefined {
  const stat = readStat(pid)
  if (!stat) return undefined
  const uptimeSeconds = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0])
  const ageMs = (uptimeSeconds - stat.startTicks / CLOCK_TICKS_PER_SECOND) * 1000
  return performance.now() - ageMs
}

/** childPidRunning finds a child of `parentPid` whose command line contains `fragment`. */
export function childPidRunning(parentPid: number, fragment: string): number | undefined {
  return allPids().find(
    (pid) => readStat(pid)?.parentPid === parentPid && readCommandLine(pid).includes(fragment),
  )
}

/**
 * ProcessGroup names a set of processes to account CPU to, found anew at each sample: Postgres
 * backends come and go with connection pools.
 */
export interface ProcessGroup {
  name: string
  pids(): number[]
}

/** fixedProcess is a group of one known process (a service). */
export function fixedProcess(name: string, pid: number): ProcessGroup {
  return { name, pids: () => [pid] }
}

/**
 * postgresProcesses are the server's processes that work for this run: the backends connected
 * to the run's databases (their command line names the database), plus the shared helpers
 * (WAL writer, checkpointer, background writer...) that every commit makes work for. Backends of
 * other databases on the same server are left out; the helpers' time may include theirs.
 */
export function postgresProcesses(databasePrefix: string): ProcessGroup {
  return {
    name: 'postgres',
    pids: () =>
      allPids().filter((pid) => {
        if (readName(pid) !== 'postgres') return false
        const commandLine = readCommandLine(pid)
        // A backend's title is `postgres: 15/main: <role> <database> <client> <activity>`.
        const backend = /^postgres: [^:]+: (\S+) (\S+) (\d|\[local\])/.exec(commandLine)
        return backend ? backend[2]?.startsWith(databasePrefix) === true : true
      }),
  }
}

/** natsServerProcesses are the machine's nats-server processes. */
export function natsServerProcesses(): ProcessGroup {
  return {
    name: 'nats-server',
    pids: () => allPids().filter((pid) => readName(pid) === 'nats-server'),
  }
}

// BUSY_FIELDS are the /proc/stat `cpu` columns that are work: user, nice, system, irq, softirq, steal.
const BUSY_FIELDS = [0, 1, 2, 5, 6, 7]

/** machineBusySeconds is the CPU time all cores have spent on anything but idling, since boot. */
export function machineBusySeconds(): number {
  const firstLine = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? ''
  const ticks = firstLine.split(/\s+/).slice(1).map(Number)
  return BUSY_FIELDS.reduce((sum, field) => sum + (ticks[field] ?? 0), 0) / CLOCK_TICKS_PER_SECOND
}

/**
 * CpuMeter follows the CPU time of process groups while a step runs. It samples every
 * `intervalMs` so that a process that exits between the first and the last reading (a pooled
 * Postgres connection closing) still counts for what it used until its last sample.
 */
export class CpuMeter {
  private readonly baseline = new Map<number, number>()
  private readonly latest = new Map<number, { group: string; seconds: number }>()
  private timer: NodeJS.Timeout | undefined
  private machineAtStart = 0

  constructor(
    private readonly groups: ProcessGroup[],
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.baseline.clear()
    this.latest.clear()
    this.machineAtStart = machineBusySeconds()
    for (const group of this.groups) {
      for (const pid of group.pids()) {
        const seconds = cpuSeconds(pid)
        if (seconds !== undefined) this.baseline.set(pid, seconds)
      }
    }
    this.timer = setInterval(() => this.sample(), this.intervalMs)
    this.timer.unref()
  }

  /**
   * stop takes the last sample and returns the CPU seconds each group used since start, and
   * under `other` what the rest of the machine used meanwhile (other people's work disturbs).
   */
  stop(): Record<string, number> {
    clearInterval(this.timer)
    this.sample()
    const used: Record<string, number> = Object.fromEntries(this.groups.map((g) => [g.name, 0]))
    for (const [pid, { group, seconds }] of this.latest) {
      // A process that started after `start` counts from zero: all of its time is in the step.
      used[group] = (used[group] ?? 0) + seconds - (this.baseline.get(pid) ?? 0)
    }
    const ours = Object.values(used).reduce((sum, seconds) => sum + seconds, 0)
    used.other = Math.max(0, machineBusySeconds() - this.machineAtStart - ours)
    return used
  }

  private sample(): void {
    for (const group of this.groups) {
      for (const pid of group.pids()) {
        const seconds = cpuSeconds(pid)
        if (seconds !== undefined) this.latest.set(pid, { group: group.name, seconds })
      }
    }
  }
}

import { setTimeout as sleep } from 'node:timers/promises'

/**
 * waitFor polls until `condition` holds, failing after `timeoutMs`. The default is generous: a
 * test waits for what the design guarantees, and a busy machine may take many times longer.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(10)
  }
}

/**
 * @module
 * `junction stacks [--output json]`: the stacks of the caller's account and region on a running
 * server, as a table (name, status, last update, resource count) or as their JSON records.
 */
import { destroyClients } from '../../deploy/clients.js'
import { openSession, type SessionFlags } from '../../deploy/stack-session.js'

export type StacksFlags = SessionFlags & { output?: string }

export async function stacks(
  flags: StacksFlags,
  out: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  if (flags.output !== undefined && flags.output !== 'json' && flags.output !== 'table') {
    process.stderr.write(`--output: ${flags.output} is not table or json\n`)
    return 2
  }
  let session
  try {
    session = await openSession(flags)
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`)
    return 1
  }
  try {
    const list = await session.stacks.list()
    if (flags.output === 'json') {
      out(`${JSON.stringify({ stacks: list }, null, 2)}\n`)
      return 0
    }
    const rows = [
      ['NAME', 'STATUS', 'UPDATED', 'RESOURCES'],
      ...list.map((s) => [s.name, s.status, s.updatedAt, String(s.resources.length)]),
    ]
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
    for (const r of rows)
      out(
        `${r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd()}\n`,
      )
    return 0
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`)
    return 1
  } finally {
    destroyClients(session.clients)
  }
}

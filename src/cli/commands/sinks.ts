/**
 * @module
 * `junction sinks add|list|remove`: the database sinks of a running server (a Junction extension
 * target; see docs/sinks.md), through `/junction/sinks`, found and signed as the other client
 * commands are (commands/client.ts).
 *
 * @example
 * ```sh
 * junction sinks add orders --postgres postgres://app:secret@db/shop --table public.orders --key id
 * junction sinks add legacy --mysql mysql://root@db/shop --table orders --key id \
 *   --column id='$.detail.after.order_id' --column total='$.detail.after.amount'
 * junction sinks list
 * junction sinks remove orders
 * ```
 */
import { SINKS_PATH } from '../../api/sinks-route.js'
import { endpointOf, errorText, signedFetch, type ClientFlags } from './client.js'

export type SinkAddFlags = Omit<ClientFlags, 'account'> & {
  postgres?: string
  mysql?: string
  table: string
  key: string[]
  column?: string[]
  version?: string
  versionColumn?: string
  deletedColumn?: string
  op?: string
  batchSize?: string
  /** `--no-echo-suppression` sets it false. */
  echoSuppression?: boolean
}

type Out = (text: string) => void
const stdout: Out = (t) => process.stdout.write(t)

const sinkUrl = (flags: ClientFlags, name?: string) =>
  new URL(
    name === undefined ? SINKS_PATH : `${SINKS_PATH}/${encodeURIComponent(name)}`,
    endpointOf(flags),
  )

/** Creates (or replaces) a sink; prints it. Exit 0, 2 for bad flags or a refusal. */
export async function sinksAdd(
  name: string,
  flags: SinkAddFlags,
  out: Out = stdout,
): Promise<number> {
  if ((flags.postgres === undefined) === (flags.mysql === undefined)) {
    process.stderr.write('Give exactly one of --postgres URL or --mysql URL.\n')
    return 2
  }
  const columns: Record<string, string> = {}
  for (const c of flags.column ?? []) {
    const eq = c.indexOf('=')
    if (eq <= 0) {
      process.stderr.write(`--column ${c}: expected column=$.path\n`)
      return 2
    }
    columns[c.slice(0, eq)] = c.slice(eq + 1)
  }
  const body: Record<string, unknown> = {
    kind: flags.postgres === undefined ? 'mysql' : 'postgres',
    url: flags.postgres ?? flags.mysql,
    table: flags.table,
    key: flags.key.flatMap((k) => k.split(',')).filter((k) => k !== ''),
    ...(flags.column === undefined ? {} : { columns }),
    ...(flags.version === undefined ? {} : { version: flags.version }),
    ...(flags.versionColumn === undefined ? {} : { versionColumn: flags.versionColumn }),
    ...(flags.deletedColumn === undefined ? {} : { deletedColumn: flags.deletedColumn }),
    ...(flags.op === undefined ? {} : { op: flags.op }),
    ...(flags.batchSize === undefined ? {} : { batchSize: Number(flags.batchSize) }),
    ...(flags.echoSuppression === false ? { echoSuppression: false } : {}),
  }
  const res = await signedFetch(flags, sinkUrl(flags, name), {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!res.ok) {
    process.stderr.write(`${await errorText(res)}\n`)
    return 2
  }
  out(`${JSON.stringify(await res.json(), null, 2)}\n`)
  return 0
}

/** Lists the sinks of the caller's account and region, as a table or as JSON. */
export async function sinksList(
  flags: Omit<ClientFlags, 'account'> & { output?: string },
  out: Out = stdout,
): Promise<number> {
  const res = await signedFetch(flags, sinkUrl(flags))
  if (!res.ok) {
    process.stderr.write(`${await errorText(res)}\n`)
    return 2
  }
  const body = (await res.json()) as { sinks: Record<string, unknown>[] }
  if (flags.output === 'json') {
    out(`${JSON.stringify(body, null, 2)}\n`)
    return 0
  }
  const rows = [
    ['NAME', 'KIND', 'TABLE', 'KEY', 'URL'],
    ...body.sinks.map((s) => [
      String(s.name),
      String(s.kind),
      String(s.table),
      (s.key as string[]).join(','),
      String(s.url),
    ]),
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
}

/** Removes a sink (its pool closes). Exit 0, 2 when it does not exist. */
export async function sinksRemove(
  name: string,
  flags: Omit<ClientFlags, 'account'>,
): Promise<number> {
  const res = await signedFetch(flags, sinkUrl(flags, name), { method: 'DELETE' })
  if (!res.ok) {
    process.stderr.write(`${await errorText(res)}\n`)
    return 2
  }
  return 0
}

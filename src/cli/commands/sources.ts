/**
 * @module
 * `junction sources add|list|remove`: a running server's change-capture sources, through
 * `/junction/sources` (found and signed as the other client commands, see `client.ts`).
 *
 * - `junction sources add NAME --postgres URL --publication PUB --bus BUS [--slot S] [--snapshot]
 *   [--detail-type-with-op] [--oversize drop-before|key-only|fail]`
 * - `junction sources add NAME --mysql URL --bus BUS [--server-id N] …`
 * - `junction sources list` — name, kind, bus, state, lag, URL (password masked)
 * - `junction sources remove NAME [--drop-slot]`
 *
 * Exit codes: 0 done, 1 refused by the server (its error on stderr), 2 bad arguments.
 */
import { SOURCES_PATH } from '../../api/sources-route.js'
import { endpointOf, errorText, signedFetch, type ClientFlags } from './client.js'

export type SourcesAddFlags = Omit<ClientFlags, 'account'> & {
  postgres?: string
  mysql?: string
  publication?: string
  bus?: string
  slot?: string
  serverId?: string
  snapshot?: boolean
  detailTypeWithOp?: boolean
  oversize?: string
}

export type SourcesRemoveFlags = Omit<ClientFlags, 'account'> & { dropSlot?: boolean }

type Out = (line: string) => void
const stdout: Out = (l) => process.stdout.write(`${l}\n`)
const fail = (m: string) => {
  process.stderr.write(`${m}\n`)
}

export async function sourcesAdd(
  name: string,
  flags: SourcesAddFlags,
  out: Out = stdout,
): Promise<number> {
  if ((flags.postgres === undefined) === (flags.mysql === undefined)) {
    fail('Give exactly one of --postgres URL or --mysql URL.')
    return 2
  }
  if (flags.bus === undefined) {
    fail('--bus is required: the bus the changes go onto.')
    return 2
  }
  const body: Record<string, unknown> = {
    name,
    url: flags.postgres ?? flags.mysql,
    busName: flags.bus,
    snapshot: flags.snapshot === true,
    detailTypeWithOp: flags.detailTypeWithOp === true,
  }
  if (flags.publication !== undefined) body.publication = flags.publication
  if (flags.slot !== undefined) body.slot = flags.slot
  if (flags.oversize !== undefined) body.oversize = flags.oversize
  if (flags.serverId !== undefined) {
    const id = Number(flags.serverId)
    if (!Number.isInteger(id)) {
      fail(`--server-id: ${flags.serverId} is not an integer.`)
      return 2
    }
    body.serverId = id
  }
  const res = await signedFetch(flags, new URL(SOURCES_PATH, endpointOf(flags)), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!res.ok) {
    fail(await errorText(res))
    return 1
  }
  const def = (await res.json()) as { name: string; busName: string; url: string }
  out(`added ${def.name}: ${def.url} → bus ${def.busName}`)
  return 0
}

type Shown = {
  name: string
  kind: string
  busName: string
  url: string
  status: { state: string; error?: string; lagBytes?: number; changesCaptured: number }
}

export async function sourcesList(
  flags: Omit<ClientFlags, 'account'> & { output?: string },
  out: Out = stdout,
): Promise<number> {
  const res = await signedFetch(flags, new URL(SOURCES_PATH, endpointOf(flags)))
  if (!res.ok) {
    fail(await errorText(res))
    return 1
  }
  const { sources } = (await res.json()) as { sources: Shown[] }
  if (flags.output === 'json') {
    out(JSON.stringify({ sources }, null, 2))
    return 0
  }
  const rows = [
    ['NAME', 'KIND', 'BUS', 'STATE', 'CHANGES', 'LAG BYTES', 'URL'],
    ...sources.map((s) => [
      s.name,
      s.kind,
      s.busName,
      s.status.state,
      String(s.status.changesCaptured),
      s.status.lagBytes === undefined ? '-' : String(s.status.lagBytes),
      s.url,
    ]),
  ]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  for (const r of rows)
    out(
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
  for (const s of sources) if (s.status.error) out(`${s.name}: ${s.status.error}`)
  return 0
}

export async function sourcesRemove(
  name: string,
  flags: SourcesRemoveFlags,
  out: Out = stdout,
): Promise<number> {
  const url = new URL(`${SOURCES_PATH}/${encodeURIComponent(name)}`, endpointOf(flags))
  if (flags.dropSlot) url.searchParams.set('dropSlot', 'true')
  const res = await signedFetch(flags, url, { method: 'DELETE' })
  if (!res.ok) {
    fail(await errorText(res))
    return 1
  }
  out(`removed ${name}${flags.dropSlot ? ' (and its replication slot)' : ''}`)
  return 0
}

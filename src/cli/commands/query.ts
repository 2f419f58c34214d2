/**
 * @module
 * `junction query --archive NAME "SELECT …"`: read-only SQL over an archive's events through
 * the server's `POST /junction/query`, printed as a table, JSON or CSV. The server and the
 * caller are found as for the other client commands (`client.ts`); the request is signed.
 */
import { QUERY_PATH } from '../../api/archive-query.js'
import { endpointOf, errorText, signedFetch, type ClientFlags } from './client.js'

export type QueryFlags = ClientFlags & { archive: string; format?: string; timeout?: string }

export async function query(
  sql: string,
  flags: QueryFlags,
  out: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  const body: Record<string, unknown> = {
    archive: flags.archive,
    sql,
    format: flags.format ?? 'table',
  }
  if (flags.account !== undefined) body.account = flags.account
  if (flags.region !== undefined) body.region = flags.region
  if (flags.timeout !== undefined) body.timeoutMs = Number(flags.timeout)
  const res = await signedFetch(flags, new URL(QUERY_PATH, endpointOf(flags)), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!res.ok) {
    process.stderr.write(`${await errorText(res)}\n`)
    return 2
  }
  out(await res.text())
  return 0
}

/**
 * @module
 * `/junction/sources`: the caller's change-capture sources (the caller's account and region:
 * with `--auth sigv4` a signed caller sees and changes its own account's only).
 *
 * - `POST /junction/sources` with `{"name","url","busName","publication"?,"slot"?,"serverId"?,
 *   "snapshot"?,"detailTypeWithOp"?,"oversize"?}` → the source as stored
 * - `GET /junction/sources` → `{"sources":[source, …]}` (by name), each with its `status`
 * - `GET /junction/sources/NAME` → the source with its `status`
 * - `DELETE /junction/sources/NAME` (`?dropSlot=true`: also drop its PostgreSQL slot) → `{}`
 *
 * Answers show the URL with its password masked. Errors are EventBridge's JSON (`__type`,
 * `message`): ValidationException, ResourceAlreadyExistsException, ResourceNotFoundException.
 */
import { ok, refuse, sendReply, type Reply } from './own-route-reply.js'
import type { ServerResponse } from 'node:http'
import type { Caller } from '../auth/caller.js'
import { BusError } from '../errors.js'
import type { Scope } from '../model.js'
import type { SourceDefinition, SourceStatus } from '../cdc/model.js'
import { checkSource, maskUrl, notFound, type Sources } from '../cdc/sources.js'

export const SOURCES_PATH = '/junction/sources'

export const isSourcesPath = (path: string) =>
  path === SOURCES_PATH || path.startsWith(`${SOURCES_PATH}/`)

export type SourcesRouteDeps = {
  sources: Sources
  /** Runs a change alone (Registry.exclusive). */
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>
  now: () => number
  busExists: (scope: Scope, name: string) => boolean
  /** The running source's status (absent: not running on this node). */
  status: (def: SourceDefinition) => SourceStatus | undefined
  /** Removes the source, stops it and, when asked, drops its slot. */
  remove: (scope: Scope, name: string, dropSlot: boolean) => Promise<void>
}

export async function handleSources(
  deps: SourcesRouteDeps,
  caller: Caller,
  method: string,
  path: string,
  search: string,
  body: string,
  res: ServerResponse,
): Promise<void> {
  let reply: Reply
  try {
    reply = await route(deps, caller, method, path, search, body)
  } catch (e) {
    if (!(e instanceof BusError)) throw e
    reply = refuse(e.status, e.code, e.message)
  }
  sendReply(res, reply)
}

async function route(
  deps: SourcesRouteDeps,
  caller: Caller,
  method: string,
  path: string,
  search: string,
  body: string,
): Promise<Reply> {
  const scope: Scope = { account: caller.account, region: caller.region }
  const bad = (m: string) => new BusError('ValidationException', m)
  if (path === SOURCES_PATH) {
    if (method === 'GET')
      return ok({ sources: deps.sources.list(scope).map((d) => shown(d, deps.status(d))) })
    if (method !== 'POST') throw bad('Use GET to list sources or POST to add one.')
    let req: unknown
    try {
      req = JSON.parse(body)
    } catch {
      throw new BusError('SerializationException', 'The request body is not valid JSON.')
    }
    if (req === null || typeof req !== 'object' || Array.isArray(req))
      throw bad('The body must be a JSON object.')
    const def = await deps.exclusive(async () => {
      const d = checkSource(scope, req, (bus) => deps.busExists(scope, bus), deps.now())
      await deps.sources.create(d)
      return d
    })
    return ok(shown(def, undefined))
  }
  let name: string
  try {
    name = decodeURIComponent(path.slice(SOURCES_PATH.length + 1))
  } catch {
    throw bad('The source name is not valid URL encoding.')
  }
  if (method === 'GET') {
    const def = deps.sources.get(scope, name)
    if (!def) throw notFound(name)
    return ok(shown(def, deps.status(def)))
  }
  if (method === 'DELETE') {
    const dropSlot = new URLSearchParams(search).get('dropSlot') === 'true'
    await deps.remove(scope, name, dropSlot)
    return ok({})
  }
  throw bad('Use GET or DELETE on a source.')
}

function shown(def: SourceDefinition, status: SourceStatus | undefined) {
  return {
    ...def,
    url: maskUrl(def.url),
    createdAt: new Date(def.createdAt).toISOString(),
    status: status ?? { state: 'stopped', changesCaptured: 0 },
  }
}

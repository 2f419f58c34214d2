/**
 * @module
 * `/junction/sinks`: Junction's database sinks (a Junction extension; see docs/sinks.md), per
 * account and region (the caller's: with `--auth sigv4` a signed caller sees its own account
 * only). Answers show the connection URL with its password masked.
 *
 * - `GET /junction/sinks` → `{"sinks":[sink, …]}` (by name)
 * - `GET /junction/sinks/NAME` → the sink
 * - `PUT /junction/sinks/NAME` with a definition (`kind`, `url`, `table`, `key`, …) → the sink as
 *   stored (created, or replaced: its pool reopens with the new definition)
 * - `DELETE /junction/sinks/NAME` → `{}` (its pool closes)
 *
 * Errors are EventBridge's JSON (`__type`, `message`): a bad definition is a
 * ValidationException (400); a sink that does not exist a ResourceNotFoundException (404).
 */
import { ok, refuse, sendReply, type Reply } from './own-route-reply.js'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Caller } from '../auth/caller.js'
import { readSinkDefinition, SINK_NAME, sinkView } from '../sink/model.js'
import type { Sinks } from '../sink/sinks.js'

export const SINKS_PATH = '/junction/sinks'

export const isSinksPath = (path: string) =>
  path === SINKS_PATH || path.startsWith(`${SINKS_PATH}/`)

export type SinksRouteDeps = {
  sinks: Sinks
  /** Runs a change alone (Registry.exclusive). */
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>
  now: () => number
}

export async function handleSinks(
  deps: SinksRouteDeps,
  caller: Caller,
  req: IncomingMessage,
  path: string,
  body: string,
  res: ServerResponse,
): Promise<void> {
  sendReply(res, await route(deps, caller, req.method ?? 'GET', path, body))
}

async function route(
  deps: SinksRouteDeps,
  caller: Caller,
  method: string,
  path: string,
  body: string,
): Promise<Reply> {
  const scope = { account: caller.account, region: caller.region }
  if (path === SINKS_PATH || path === `${SINKS_PATH}/`) {
    if (method !== 'GET') return refuse(405, 'ValidationException', 'Use GET to list sinks.')
    return ok({ sinks: deps.sinks.list(scope).map(sinkView) })
  }
  let name: string
  try {
    name = decodeURIComponent(path.slice(SINKS_PATH.length + 1))
  } catch {
    return refuse(400, 'ValidationException', 'The sink name is not valid URL encoding.')
  }
  if (!SINK_NAME.test(name))
    return refuse(
      400,
      'ValidationException',
      `The sink name ${name} is not valid: 1 to 64 letters, digits, '.', '-' or '_'.`,
    )
  const missing = refuse(
    404,
    'ResourceNotFoundException',
    `Sink ${name} does not exist in account ${scope.account}, region ${scope.region}.`,
  )
  switch (method) {
    case 'GET': {
      const def = deps.sinks.get(scope, name)
      return def ? ok(sinkView(def)) : missing
    }
    case 'DELETE':
      return (await deps.exclusive(() => deps.sinks.delete(scope, name))) ? ok({}) : missing
    case 'PUT': {
      let input: unknown
      try {
        input = JSON.parse(body)
      } catch {
        return refuse(400, 'SerializationException', 'The request body is not valid JSON.')
      }
      return deps.exclusive(async () => {
        const def = readSinkDefinition(input, scope, name, deps.now(), deps.sinks.get(scope, name))
        if (typeof def === 'string') return refuse(400, 'ValidationException', def)
        await deps.sinks.put(def)
        return ok(sinkView(def))
      })
    }
    default:
      return refuse(405, 'ValidationException', 'Use GET, PUT or DELETE on a sink.')
  }
}

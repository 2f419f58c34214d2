/**
 * @module
 * `/junction/stacks`: the records `junction deploy` keeps of the stacks it deployed, per account
 * and region (the caller's: with `--auth sigv4` a signed caller sees its own account only), and
 * `/junction/whoami`, the caller as the server sees it (what STS GetCallerIdentity answers).
 *
 * - `GET /junction/stacks` → `{"stacks":[record, …]}` (by name)
 * - `GET /junction/stacks/NAME` → the record
 * - `PUT /junction/stacks/NAME` with a record → the record as stored (its `id` and `createdAt`
 *   kept from the first put, `updatedAt` set)
 * - `DELETE /junction/stacks/NAME` → `{}`
 * - `GET /junction/whoami` → `{"Account","Arn","UserId"}`
 *
 * Errors are EventBridge's JSON (`__type`, `message`): a bad stack name is a
 * ValidationException; a stack that does not exist is CloudFormation's ValidationError
 * ("Stack with id NAME does not exist") with status 404.
 */
import { ok, refuse, sendReply, type Reply } from './own-route-reply.js'
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Caller } from '../auth/caller.js'
import { stackNameProblem } from '../deploy/names.js'
import { recordProblem, stackId, type StackRecord } from '../deploy/stack-record.js'
import type { Stacks } from '../deploy/stack-store.js'

export const STACKS_PATH = '/junction/stacks'
export const WHOAMI_PATH = '/junction/whoami'

export const isStacksPath = (path: string) =>
  path === WHOAMI_PATH || path === STACKS_PATH || path.startsWith(`${STACKS_PATH}/`)

export type StacksRouteDeps = {
  stacks: Stacks
  /** Runs a change alone (Registry.exclusive). */
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>
  now: () => number
}

export async function handleStacks(
  deps: StacksRouteDeps,
  caller: Caller,
  req: IncomingMessage,
  path: string,
  body: string,
  res: ServerResponse,
): Promise<void> {
  sendReply(res, await route(deps, caller, req.method ?? 'GET', path, body))
}

async function route(
  deps: StacksRouteDeps,
  caller: Caller,
  method: string,
  path: string,
  body: string,
): Promise<Reply> {
  const scope = { account: caller.account, region: caller.region }
  if (path === WHOAMI_PATH) {
    if (method !== 'GET') return refuse(405, 'ValidationException', 'Use GET.')
    return ok({
      Account: caller.account,
      Arn: `arn:aws:iam::${caller.account}:root`,
      UserId: caller.accessKeyId ?? caller.account,
    })
  }
  if (path === STACKS_PATH) {
    if (method !== 'GET') return refuse(405, 'ValidationException', 'Use GET to list stacks.')
    return ok({ stacks: deps.stacks.list(scope) })
  }
  let name: string
  try {
    name = decodeURIComponent(path.slice(STACKS_PATH.length + 1))
  } catch {
    return refuse(400, 'ValidationException', 'The stack name is not valid URL encoding.')
  }
  const problem = stackNameProblem(name)
  if (problem !== undefined) return refuse(400, 'ValidationException', problem)
  const missing = refuse(404, 'ValidationError', `Stack with id ${name} does not exist`)
  switch (method) {
    case 'GET': {
      const record = deps.stacks.get(scope, name)
      return record ? ok(record) : missing
    }
    case 'DELETE':
      return (await deps.exclusive(() => deps.stacks.delete(scope, name))) ? ok({}) : missing
    case 'PUT':
      return put(deps, scope, name, body)
    default:
      return refuse(405, 'ValidationException', 'Use GET, PUT or DELETE on a stack.')
  }
}

async function put(
  deps: StacksRouteDeps,
  scope: { account: string; region: string },
  name: string,
  body: string,
): Promise<Reply> {
  let doc: unknown
  try {
    doc = JSON.parse(body)
  } catch {
    return refuse(400, 'SerializationException', 'The request body is not valid JSON.')
  }
  if (doc !== null && typeof doc === 'object' && !('name' in doc))
    (doc as { name?: string }).name = name
  const bad = recordProblem(doc)
  if (bad !== undefined) return refuse(400, 'ValidationException', bad)
  const given = doc as StackRecord
  if (given.name !== name)
    return refuse(
      400,
      'ValidationException',
      `The record's name ${given.name} is not the stack name in the path, ${name}.`,
    )
  const stored = await deps.exclusive(async () => {
    const old = deps.stacks.get(scope, name)
    const now = new Date(deps.now()).toISOString()
    const record: StackRecord = {
      ...given,
      id: old?.id ?? stackId(scope.region, scope.account, name, randomUUID()),
      createdAt: old?.createdAt ?? now,
      updatedAt: now,
    }
    await deps.stacks.put(scope, record)
    return record
  })
  return ok(stored)
}

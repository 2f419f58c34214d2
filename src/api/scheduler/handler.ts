/**
 * @module
 * EventBridge Scheduler's REST-JSON front door: the operation comes from the method and path
 * (`/schedules/{Name}`, `/schedules`, `/schedule-groups/{Name}`, `/schedule-groups`,
 * `/tags/{ResourceArn}`), parameters from the path, the query string and a JSON body. Errors
 * carry their code in `x-amzn-ErrorType` and `{"Message": …}` in the body, with the status the
 * model gives each (400 validation, 404 not found, 409 conflict).
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { BusError } from '../../errors.js'
import type { Scope } from '../../model.js'
import type { Services } from '../context.js'
import type { Input } from '../validate.js'
import * as ops from './operations.js'
import { SchedulerError, type SchedulerRequest } from './operations.js'

type Op = (req: SchedulerRequest) => unknown

const ROUTES: Record<string, { item?: Record<string, Op>; collection?: Record<string, Op> }> = {
  schedules: {
    item: {
      POST: ops.createSchedule,
      GET: ops.getSchedule,
      PUT: ops.updateSchedule,
      DELETE: ops.deleteSchedule,
    },
    collection: { GET: ops.listSchedules },
  },
  'schedule-groups': {
    item: {
      POST: ops.createScheduleGroup,
      GET: ops.getScheduleGroup,
      DELETE: ops.deleteScheduleGroup,
    },
    collection: { GET: ops.listScheduleGroups },
  },
  tags: {
    item: { POST: ops.tagResource, GET: ops.listTagsForResource, DELETE: ops.untagResource },
  },
}

/** Whether a request is for Scheduler (no JSON 1.1 target, a Scheduler path). */
export function isSchedulerPath(path: string): boolean {
  return /^\/(schedules|schedule-groups|tags)(\/|$)/.test(path)
}

export async function answerScheduler(
  deps: { services: Services; log: Logger },
  scope: Scope,
  req: IncomingMessage,
  path: string,
  search: string,
  body: string,
  res: ServerResponse,
): Promise<void> {
  const requestId = randomUUID()
  try {
    const [, resource = '', rawName] = /^\/([^/]+)(?:\/(.+))?$/.exec(path) ?? []
    const routes = ROUTES[resource]
    const table = rawName === undefined ? routes?.collection : routes?.item
    const op = table?.[req.method ?? 'GET']
    if (!op)
      throw new SchedulerError(
        'UnknownOperationException',
        404,
        `No operation for ${req.method ?? ''} ${path}.`,
      )
    const request: SchedulerRequest = {
      scope,
      schedules: deps.services.schedules,
      now: deps.services.clock.now(),
      query: new URLSearchParams(search),
      body: parseBody(body),
      ...(rawName === undefined ? {} : { name: decodeURIComponent(rawName) }),
    }
    // One change at a time with the rest of the control plane (see Registry.exclusive).
    const output = await deps.services.registry.exclusive(() => op(request))
    const text = JSON.stringify(output ?? {})
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': requestId,
    })
    res.end(text)
  } catch (e) {
    const err = asSchedulerError(e)
    if (err.status >= 500) deps.log.error({ err: e, requestId }, 'internal error')
    const text = JSON.stringify({ Message: err.message })
    res.writeHead(err.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': err.code,
    })
    res.end(text)
  }
}

function asSchedulerError(e: unknown): SchedulerError {
  if (e instanceof SchedulerError) return e
  if (e instanceof BusError) return new SchedulerError(e.code, e.status, e.message)
  if (e instanceof URIError) return new SchedulerError('ValidationException', 400, 'Invalid URI.')
  return new SchedulerError('InternalServerException', 500, 'An internal error occurred.')
}

function parseBody(body: string): Input {
  if (body.trim() === '') return {}
  let v: unknown
  try {
    v = JSON.parse(body)
  } catch {
    throw new SchedulerError('SerializationException', 400, 'The request body is not valid JSON.')
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new SchedulerError(
      'SerializationException',
      400,
      'The request body must be a JSON object.',
    )
  return v as Input
}

/**
 * @module
 * `POST /junction/query`: Junction's own route for read-only SQL over an archive's events (not
 * part of the EventBridge API). Body: `{"archive":"NAME","sql":"SELECT …","format":"json"}`
 * (`format` json, csv or table; optional `account` and `region`, else the caller's, and
 * `timeoutMs`). Answers the rows in that format, or an AWS-style error
 * `{"__type":…,"message":…}`.
 */
import type { ServerResponse } from 'node:http'
import { formatResult, QUERY_FORMATS, type QueryFormat } from '../archive/format.js'
import { BusError, notFound } from '../errors.js'
import type { Logger } from 'pino'
import type { Caller } from '../auth/caller.js'
import type { Services } from './context.js'

export const QUERY_PATH = '/junction/query'

const CONTENT_TYPE: Record<QueryFormat, string> = {
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  table: 'text/plain; charset=utf-8',
}

export async function answerArchiveQuery(
  services: Services,
  caller: Caller,
  body: string,
  res: ServerResponse,
  log: Logger,
  /** Signed callers: `account`/`region` in the body may only name the caller's own. */
  ownAccountOnly = false,
): Promise<void> {
  try {
    const input = parse(body)
    const name = input.archive
    const sql = input.sql
    const format = input.format ?? 'json'
    if (typeof name !== 'string' || name === '')
      throw new BusError('ValidationException', 'archive (the archive name) is required.')
    if (typeof sql !== 'string') throw new BusError('ValidationException', 'sql is required.')
    if (typeof format !== 'string' || !QUERY_FORMATS.includes(format as QueryFormat))
      throw new BusError(
        'ValidationException',
        `format must be one of ${QUERY_FORMATS.join(', ')}.`,
      )
    const scope = {
      account: typeof input.account === 'string' ? input.account : caller.account,
      region: typeof input.region === 'string' ? input.region : caller.region,
    }
    if (ownAccountOnly && scope.account !== caller.account)
      throw new BusError(
        'AccessDeniedException',
        `Account ${caller.account} may not query archives of account ${scope.account}.`,
      )
    const archive = services.archives.get(scope, name)
    if (!archive) throw notFound(`Archive ${name} does not exist.`)
    if (!services.queryArchive)
      throw new BusError(
        'ValidationException',
        'Queries need the SQLite store (serve --store sqlite).',
      )
    const timeoutMs = typeof input.timeoutMs === 'number' ? input.timeoutMs : undefined
    const result = await services.queryArchive(
      archive.key,
      sql,
      timeoutMs === undefined ? {} : { timeoutMs },
    )
    const text = formatResult(result, format as QueryFormat)
    res.writeHead(200, { 'content-type': CONTENT_TYPE[format as QueryFormat] })
    res.end(text)
  } catch (e) {
    if (!(e instanceof BusError)) log.error({ err: e }, 'archive query failed')
    const err =
      e instanceof BusError
        ? e
        : new BusError('InternalException', 'An internal error occurred.', { cause: e })
    res.writeHead(err.status, { 'content-type': 'application/json', 'x-amzn-errortype': err.code })
    res.end(JSON.stringify({ __type: err.code, message: err.message }))
  }
}

function parse(body: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(body)
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      return v as Record<string, unknown>
  } catch {
    // answered below
  }
  throw new BusError('SerializationException', 'The request body must be a JSON object.')
}

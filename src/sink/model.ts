/**
 * @module
 * Sinks: a Junction extension target that upserts events into a PostgreSQL or MySQL/MariaDB
 * table (EventBridge has no database target). A sink is a resource of its own, as an API
 * destination is, created through `/junction/sinks` and named in PutTargets by its ARN,
 * `arn:aws:events:<region>:<account>:junction-sink/<name>`: a resource type no AWS service has,
 * so it never collides with a real one. See docs/sinks.md.
 */
import type { Scope } from '../model.js'
import { parsePath } from '../transform/index.js'

export type SinkKind = 'postgres' | 'mysql'

/** A sink as stored with the configuration (kind `sink`, keyed `ACCOUNT/REGION/NAME`). */
export type SinkDefinition = {
  name: string
  arn: string
  account: string
  region: string
  kind: SinkKind
  /** Connection URL, credentials included; answers show it with the password masked. */
  url: string
  /** The table, `schema.table` on PostgreSQL (default schema `public`), `table` or `db.table` on MySQL. */
  table: string
  /** The columns of the table's primary key (or a unique key): the conflict target. */
  key: string[]
  /**
   * Column → path into what the target receives (InputTransformer path syntax). Absent: every
   * field of `detail.after` (`detail.before`, then `detail.key`, for a delete) by its own name.
   */
  columns?: Record<string, string>
  /** Path to the change's version, compared as text. @default '$.detail.source.version' */
  version: string
  /** @default '_junction_version' (a TEXT/VARCHAR column) */
  versionColumn: string
  /** @default '_junction_deleted' (a BOOLEAN column) */
  deletedColumn: string
  /** Path to the operation; `d` writes a tombstone. @default '$.detail.op' */
  op: string
  /** Mark writes so change capture drops them (replication origin / skip_replication). @default true */
  echoSuppression: boolean
  /** Most events written in one transaction. @default 100 */
  batchSize: number
  createdAt: number
  modifiedAt: number
}

export const SINK_DEFAULTS = {
  version: '$.detail.source.version',
  versionColumn: '_junction_version',
  deletedColumn: '_junction_deleted',
  op: '$.detail.op',
  echoSuppression: true,
  batchSize: 100,
} as const

/** The most events one transaction writes. */
export const MAX_BATCH_SIZE = 1000

const SINK_RESOURCE = 'junction-sink/'

export const sinkArn = (scope: Scope, name: string) =>
  `arn:aws:events:${scope.region}:${scope.account}:${SINK_RESOURCE}${name}`

/** Whether an ARN names a sink (whether or not it exists). */
export const isSinkArn = (arn: string) => /^arn:[^:]+:events:[^:]*:[^:]*:junction-sink\//.test(arn)

/** The same rules as an API destination's name. */
export const SINK_NAME = /^[.\-_A-Za-z0-9]{1,64}$/

/** The URL with its password replaced by `****`, for answers and logs. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password === '') return url
    u.password = '****'
    return u.toString()
  } catch {
    return '(not a valid URL)'
  }
}

/** The definition as `/junction/sinks` answers it: the password masked. */
export function sinkView(def: SinkDefinition): Record<string, unknown> {
  return {
    ...def,
    url: maskUrl(def.url),
    createdAt: new Date(def.createdAt).toISOString(),
    modifiedAt: new Date(def.modifiedAt).toISOString(),
  }
}

/** The input fields of a definition (what `PUT /junction/sinks/NAME` takes). */
const FIELDS = new Set([
  'name',
  'kind',
  'url',
  'table',
  'key',
  'columns',
  'version',
  'versionColumn',
  'deletedColumn',
  'op',
  'echoSuppression',
  'batchSize',
])

/**
 * Reads a definition from `PUT /junction/sinks/NAME`'s body; a ValidationException's message
 * when it is not valid. `old` keeps the creation time of the sink it replaces.
 */
export function readSinkDefinition(
  input: unknown,
  scope: Scope,
  name: string,
  now: number,
  old?: SinkDefinition,
): SinkDefinition | string {
  if (!SINK_NAME.test(name))
    return `The sink name ${name} is not valid: 1 to 64 letters, digits, '.', '-' or '_'.`
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    return 'The body must be a JSON object such as {"kind":"postgres","url":"postgres://…","table":"public.orders","key":["id"]}.'
  const o = input as Record<string, unknown>
  for (const k of Object.keys(o)) if (!FIELDS.has(k)) return `Unknown field ${k}.`
  if (o.name !== undefined && o.name !== name)
    return `The body's name ${JSON.stringify(o.name)} is not the sink name in the path, ${name}.`
  if (o.kind !== 'postgres' && o.kind !== 'mysql') return 'kind must be postgres or mysql.'
  const kind = o.kind
  if (typeof o.url !== 'string') return 'url is required: the database connection URL.'
  const urlProblem = checkUrl(kind, o.url)
  if (urlProblem) return urlProblem
  if (typeof o.table !== 'string' || o.table.length === 0) return 'table is required.'
  const parts = o.table.split('.')
  if (parts.length > 2 || parts.some((p) => p.length === 0 || p.length > 64))
    return `table ${o.table} is not valid: give table or schema.table.`
  const key = o.key
  if (!Array.isArray(key) || key.length === 0 || !key.every(isColumnName))
    return 'key must be a non-empty list of column names.'
  const def: SinkDefinition = {
    name,
    arn: sinkArn(scope, name),
    account: scope.account,
    region: scope.region,
    kind,
    url: o.url,
    table: kind === 'postgres' && parts.length === 1 ? `public.${o.table}` : o.table,
    key,
    version: SINK_DEFAULTS.version,
    versionColumn: SINK_DEFAULTS.versionColumn,
    deletedColumn: SINK_DEFAULTS.deletedColumn,
    op: SINK_DEFAULTS.op,
    echoSuppression: SINK_DEFAULTS.echoSuppression,
    batchSize: SINK_DEFAULTS.batchSize,
    createdAt: old?.createdAt ?? now,
    modifiedAt: now,
  }
  if (o.columns !== undefined) {
    const columns = readColumns(o.columns)
    if (typeof columns === 'string') return columns
    for (const k of def.key)
      if (!(k in columns)) return `columns must map the key column ${k} (or leave columns out).`
    def.columns = columns
  }
  for (const field of ['version', 'op'] as const) {
    const v = o[field]
    if (v === undefined) continue
    if (typeof v !== 'string' || !definitePath(v))
      return `${field} must be a JSONPath such as $.detail.${field === 'op' ? 'op' : 'source.version'}.`
    def[field] = v
  }
  for (const field of ['versionColumn', 'deletedColumn'] as const) {
    const v = o[field]
    if (v === undefined) continue
    if (!isColumnName(v)) return `${field} must be a column name.`
    def[field] = v
  }
  if (o.echoSuppression !== undefined) {
    if (typeof o.echoSuppression !== 'boolean') return 'echoSuppression must be true or false.'
    def.echoSuppression = o.echoSuppression
  }
  if (o.batchSize !== undefined) {
    const b = o.batchSize
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 1 || b > MAX_BATCH_SIZE)
      return `batchSize must be an integer from 1 to ${String(MAX_BATCH_SIZE)}.`
    def.batchSize = b
  }
  return def
}

function checkUrl(kind: SinkKind, url: string): string | undefined {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return `url ${maskUrl(url)} is not a valid URL.`
  }
  const schemes = kind === 'postgres' ? ['postgres:', 'postgresql:'] : ['mysql:', 'mariadb:']
  if (!schemes.includes(u.protocol))
    return `url must start with ${schemes.map((s) => `${s}//`).join(' or ')} for a ${kind} sink.`
  return undefined
}

function readColumns(v: unknown): Record<string, string> | string {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    return 'columns must be an object of column name → JSONPath.'
  const out: Record<string, string> = {}
  for (const [col, path] of Object.entries(v as Record<string, unknown>)) {
    if (!validColumn(col)) return `columns: ${col} is not a valid column name.`
    if (typeof path !== 'string' || !definitePath(path))
      return `columns: the path of ${col} must be a JSONPath without wildcards, such as $.detail.after.${col}.`
    out[col] = path
  }
  if (Object.keys(out).length === 0) return 'columns must map at least one column.'
  return out
}

const definitePath = (path: string) => parsePath(path)?.definite === true

const validColumn = (v: string) => v.length > 0 && v.length <= 64 && !v.includes('\0')

function isColumnName(v: unknown): v is string {
  return typeof v === 'string' && validColumn(v)
}

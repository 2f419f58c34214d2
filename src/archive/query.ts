/**
 * @module
 * Read-only SQL over an archive's events. Each query runs in a child process of its own
 * (`query-child.ts`) and is killed (SIGKILL) when it runs past its time limit: better-sqlite3
 * cannot interrupt a statement from another thread, and a worker thread cannot be stopped while
 * SQLite computes (a recursive CTE never returns to JavaScript), but a process always can. The
 * child reads through its own read-only connection (WAL lets it read while the server writes),
 * so a killed query leaves the store as it was.
 */
import { fork } from 'node:child_process'
import { BusError } from '../errors.js'
import type { QueryAnswer, QueryRequest } from './query-child.js'

export type QueryOptions = {
  /** Longest a query may run, start of its process included (ms). @default 10000 */
  timeoutMs?: number
  /** Rows returned at most; the answer says when there were more. @default 10000 */
  maxRows?: number
}

export type QueryResult = { columns: string[]; rows: unknown[][]; truncated: boolean }

export const DEFAULT_QUERY_TIMEOUT_MS = 10_000
export const DEFAULT_QUERY_MAX_ROWS = 10_000

/** The child runs as TypeScript under tsx (tests) and as JavaScript once built. */
const CHILD = new URL(
  import.meta.url.endsWith('.ts') ? './query-child.ts' : './query-child.js',
  import.meta.url,
)

/**
 * Runs `sql` over the `events` table of the archive whose store key is `archive`. Throws BusError: ValidationException for a
 * refused or failing statement, LimitExceededException when the time limit interrupts it.
 */
export function queryArchive(
  file: string,
  archive: number,
  sql: string,
  options: QueryOptions = {},
): Promise<QueryResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS
  const request: QueryRequest = {
    file,
    archive,
    sql,
    maxRows: options.maxRows ?? DEFAULT_QUERY_MAX_ROWS,
  }
  const execArgv = CHILD.pathname.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : []
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
    let settled = false
    let stderr = ''
    child.stderr?.on('data', (c: Buffer) => {
      if (stderr.length < 4096) stderr += c.toString()
    })
    const settle = (fn: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      fn()
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      settle(() => {
        reject(
          new BusError(
            'LimitExceededException',
            `The query ran longer than ${String(timeoutMs)} ms and was interrupted.`,
          ),
        )
      })
    }, timeoutMs)
    child.once('message', (a: QueryAnswer) => {
      settle(() => {
        if (a.ok) resolve({ columns: a.columns, rows: a.rows, truncated: a.truncated })
        else
          reject(
            new BusError(
              'ValidationException',
              `${a.refused ? 'Query refused' : 'Query failed'}: ${a.message}`,
            ),
          )
      })
    })
    child.once('error', (e) => {
      settle(() => {
        reject(e)
      })
    })
    child.once('exit', (code) => {
      settle(() => {
        reject(new Error(`the query process ended (${String(code)}) without answering: ${stderr}`))
      })
    })
    child.send(request)
  })
}

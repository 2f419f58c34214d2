/**
 * @module
 * The MySQL/MariaDB change-capture source: reads the binlog as a replica (zongji on mysql2)
 * and hands each committed transaction's row changes to its {@link CaptureSink} with the GTID
 * position after it. Resumes from the sink's checkpoint on every (re)connect, never from
 * anything the library remembers; without one, it starts at the server's current position, or
 * after a consistent snapshot when the definition asks for one.
 *
 * Lifecycle: `start()` checks the server (binlog settings, privileges) and fails with the fix
 * when something is missing; once streaming, a lost connection is retried with backoff from
 * the checkpoint; `stop()` disconnects within a few seconds. `status()` reports the lag in
 * binlog bytes and seconds, polled over a control connection.
 */
import mysql, { type RowDataPacket } from 'mysql2/promise'
import type {
  CaptureSink,
  ChangeSource,
  OpenSource,
  SourceDefinition,
  SourceDeps,
  SourceState,
  SourceStatus,
} from '../model.js'
import { connectionOptions, defaultServerId } from './connection.js'
import { GtidPosition } from './position.js'
import { checkServer, SourceConfigError, type ServerInfo } from './settings.js'
import { runSnapshot } from './snapshot.js'
import { BinlogStream } from './stream.js'
import { TableCache } from './tables.js'

export type MysqlSourceOptions = {
  /**
   * A transaction with more changes is committed in parts of this many, without a checkpoint
   * (a crash repeats them, with the same ids).
   * @default 1000
   */
  maxTransactionChanges?: number
  /** @default 500 ms, doubling up to 30 s */
  reconnectDelayMs?: number
  /** @default 2000 */
  lagPollMs?: number
  /** Reconnect when neither an event nor a heartbeat came for this long. @default 30000 */
  silenceMs?: number
}

/** Errors after which retrying cannot help: the binlog the checkpoint needs is gone, access is denied. */
const FATAL_ERRNOS = new Set([1236, 1945, 1955, 1045, 1227, 1044])

export const openMysqlSource: OpenSource = (def, sink, deps) => createMysqlSource(def, sink, deps)

export function createMysqlSource(
  def: SourceDefinition,
  sink: CaptureSink,
  deps: SourceDeps,
  options: MysqlSourceOptions = {},
): ChangeSource {
  const { options: conn, scope } = connectionOptions(def.url)
  const serverId = def.serverId ?? defaultServerId(def)
  const maxTransactionChanges = options.maxTransactionChanges ?? 1000
  const baseDelay = options.reconnectDelayMs ?? 500
  const sourceKey = `${def.account}/${def.region}/${def.name}`
  // Capture the write-back target's own writes only when the definition asks for it.
  const skipMarked = def.captureOwnWrites !== true

  let state: SourceState = 'stopped'
  let error: string | undefined
  /** Set when the source has stopped for good (start() rejects with it). */
  let failure: SourceConfigError | undefined
  const failedWith = (): SourceConfigError | undefined => failure
  let changesCaptured = 0
  let lastTsMs: number | undefined
  let lagBytes: number | undefined
  let ctrl: mysql.Connection | undefined
  let stream: BinlogStream | undefined
  let attempts = 0
  // an object, so checks after an await are not narrowed away by the compiler
  const run = { stopping: false }
  const isStopping = () => run.stopping
  let retryTimer: NodeJS.Timeout | undefined
  let lagTimer: NodeJS.Timeout | undefined
  let connecting: Promise<void> | undefined
  /** The connection being set up waits for the binlog dump to start; a stop ends the wait. */
  let settle: { resolve: () => void; reject: (err: Error) => void } | undefined

  const isCurrent = (s: BinlogStream) => stream === s
  const closeCtrl = () => {
    ctrl?.destroy()
    ctrl = undefined
  }

  /** One connection: check, position, (snapshot), stream. Resolves once the dump is running. */
  async function connect(): Promise<void> {
    state = attempts === 0 ? 'starting' : 'reconnecting'
    closeCtrl()
    const c = await mysql.createConnection({ ...conn })
    ctrl = c
    c.on('error', () => undefined) // noticed by the binlog stream or the lag poll
    const info = await checkServer(c)
    if (info.serverId === serverId) {
      throw new SourceConfigError(
        `the source's server id ${serverId} is the server's own: give the source another serverId`,
      )
    }
    const checkpoint = sink.checkpoint() ?? (await firstPosition(c, info))
    if (isStopping()) return
    const tables = new TableCache(() => {
      if (!ctrl) throw new Error('the control connection is closed')
      return ctrl
    })
    const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }))
    const s: BinlogStream = new BinlogStream(
      {
        def,
        sink,
        flavor: info.flavor,
        scope,
        tables,
        connection: conn,
        serverId,
        skipMarked,
        maxTransactionChanges,
        maxEventBytes: deps.maxEventBytes,
        log: deps.log,
        sourceKey,
        onCommitted: ({ changes, tsMs }) => {
          changesCaptured += changes
          if (tsMs !== undefined) lastTsMs = tsMs
          attempts = 0
        },
        onError: (err) => {
          const pending = settle
          settle = undefined
          if (!pending) {
            void lost(s, err)
            return
          }
          if (stream === s) stream = undefined
          void s.stop(1000).finally(() => {
            pending.reject(err)
          })
        },
        onReady: () => {
          settle?.resolve()
          settle = undefined
        },
      },
      checkpoint,
    )
    stream = s
    s.start()
    await ready
    // a stop or a lost connection may have replaced it meanwhile
    if (isCurrent(s) && !isStopping()) {
      state = 'streaming'
      error = undefined
    }
  }

  /** Without a checkpoint: the server's position now, or the snapshot's. Committed at once. */
  async function firstPosition(c: mysql.Connection, info: ServerInfo): Promise<string> {
    if (def.snapshot) {
      state = 'snapshotting'
      return runSnapshot({
        def,
        sink,
        flavor: info.flavor,
        scope,
        connection: conn,
        batchSize: maxTransactionChanges,
        maxEventBytes: deps.maxEventBytes,
        sourceKey,
        now: () => deps.now(),
        shouldStop: isStopping,
        onCommitted: (n) => (changesCaptured += n),
      })
    }
    const [rows] = await c.query<(RowDataPacket & { p: string | null })[]>(
      info.flavor === 'mariadb'
        ? 'SELECT @@GLOBAL.gtid_binlog_pos AS p'
        : 'SELECT @@GLOBAL.gtid_executed AS p',
    )
    const checkpoint = GtidPosition.parse(info.flavor, rows[0]?.p ?? '').toString()
    // Committed now, so a restart before the first change still resumes from here.
    await sink.commit({ changes: [], checkpoint })
    return checkpoint
  }

  async function lost(s: BinlogStream, err: Error): Promise<void> {
    if (stream !== s) return
    stream = undefined
    await s.stop(1000)
    if (isStopping()) return
    retry(err)
  }

  function retry(err: unknown): void {
    if (isStopping()) return
    const e = err instanceof Error ? err : new Error(String(err))
    const errno = (e as { errno?: number }).errno
    if (
      e instanceof SourceConfigError ||
      (errno !== undefined && FATAL_ERRNOS.has(errno)) ||
      // zongji met an event it cannot decode (a server setting changed while streaming)
      /zongji cannot decode/.test(e.message)
    ) {
      state = 'failed'
      failure =
        e instanceof SourceConfigError ? e : new SourceConfigError(describe(e, errno), { cause: e })
      error = failure.message
      deps.log.error({ source: def.name, err: e }, 'change capture source failed')
      closeCtrl()
      return
    }
    state = 'reconnecting'
    error = e.message
    const delay = Math.min(30_000, baseDelay * 2 ** Math.min(attempts, 6))
    attempts++
    deps.log.warn({ source: def.name, err: e.message, delay }, 'change capture source reconnecting')
    clearTimeout(retryTimer)
    retryTimer = setTimeout(() => {
      if (isStopping()) return
      connecting = connect().catch((err2: unknown) => {
        if (!isStopping()) retry(err2)
      })
    }, delay)
  }

  function describe(e: Error, errno: number | undefined): string {
    if (errno === 1236 || errno === 1945 || errno === 1955) {
      return (
        `the binlog no longer holds the checkpoint's position (${e.message}): ` +
        'the source must start over (delete and re-create it, with snapshot to read the tables again)'
      )
    }
    return e.message
  }

  async function pollLag(): Promise<void> {
    const s = stream
    if (!s || state !== 'streaming') return
    // the server sends a heartbeat every second while idle: silence means a dead connection
    if (s.silentFor(Date.now()) > (options.silenceMs ?? 30_000)) {
      void lost(s, new Error('the binlog connection went silent (no event, no heartbeat)'))
      return
    }
    const c = ctrl
    const read = s.read
    if (!c || !read) return
    const [logs] =
      await c.query<(RowDataPacket & { Log_name: string; File_size: number | string })[]>(
        'SHOW BINARY LOGS',
      )
    let behind = 0
    let seen = false
    for (const l of logs) {
      const size = Number(l.File_size)
      if (l.Log_name === read.file) {
        seen = true
        behind += Math.max(0, size - read.pos)
      } else if (seen) behind += size
    }
    lagBytes = seen ? behind : undefined
  }

  /**
   * As a replica's Seconds_Behind_Master: 0 when caught up, else the age of the transaction
   * being read (or, between transactions, of the last one committed). The binlog's time stamps
   * have second resolution.
   */
  function lagSeconds(): number | undefined {
    if (lagBytes === 0) return 0
    const since = stream?.readingSince() ?? lastTsMs
    if (since === undefined) return undefined
    return Math.max(0, (deps.now() - since) / 1000)
  }

  return {
    async start() {
      run.stopping = false
      failure = undefined
      attempts = 0
      lagTimer = setInterval(() => {
        pollLag().catch(() => undefined)
      }, options.lagPollMs ?? 2000)
      try {
        connecting = connect()
        await connecting
      } catch (err) {
        retry(err)
        const f = failedWith()
        if (f) throw f
      }
    },
    async stop() {
      run.stopping = true
      clearTimeout(retryTimer)
      clearInterval(lagTimer)
      const s = stream
      stream = undefined
      settle?.reject(new Error('the source was stopped'))
      settle = undefined
      await s?.stop()
      await connecting?.catch(() => undefined)
      closeCtrl()
      state = 'stopped'
    },
    status(): SourceStatus {
      const checkpoint = sink.checkpoint()
      const behind = lagSeconds()
      return {
        state,
        ...(error !== undefined ? { error } : {}),
        ...(lagBytes !== undefined ? { lagBytes } : {}),
        ...(behind !== undefined ? { lagSeconds: behind } : {}),
        changesCaptured,
        ...(checkpoint !== undefined ? { checkpoint } : {}),
      }
    },
  }
}

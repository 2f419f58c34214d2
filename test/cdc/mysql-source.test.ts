/**
 * The MySQL/MariaDB change-capture source against throwaway MariaDB servers: the shape of
 * insert, update, delete and truncate events and their values; resuming exactly at the
 * checkpoint; the initial snapshot; a server killed under a live source; clear errors for
 * missing binlog settings and privileges; the write-back target's writes left out; a large
 * transaction committed in bounded parts.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import pino from 'pino'
import type { ChangeSource } from '../../src/cdc/model.js'
import { createMysqlSource, type MysqlSourceOptions } from '../../src/cdc/mysql/source.js'
import { startMariaDb, type MariaDbServer } from '../helpers/mariadb.js'
import { definition, deps, SqliteCaptureSink, until } from './mysql-sink.js'

let dir: string
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'junction-mysql-source-'))
})
after(() => {
  rmSync(dir, { recursive: true, force: true })
})

let sinks = 0
function newSink(): SqliteCaptureSink {
  return new SqliteCaptureSink(join(dir, `sink-${++sinks}.db`))
}

async function running(
  db: MariaDbServer,
  sink: SqliteCaptureSink,
  over: Parameters<typeof definition>[1] = {},
  options: MysqlSourceOptions = {},
): Promise<ChangeSource> {
  const source = createMysqlSource(definition(db.url, over), sink, deps(), {
    lagPollMs: 200,
    ...options,
  })
  await source.start()
  await until(() => source.status().state === 'streaming', 'the source to stream')
  return source
}

describe('MariaDB source', () => {
  let db: MariaDbServer
  before(async () => {
    db = await startMariaDb()
  })
  after(async () => {
    await db.destroy()
  })

  test('insert, update, delete and truncate become change events with encoded values', async () => {
    db.sql(
      'CREATE TABLE shapes (id INT PRIMARY KEY, big BIGINT, price DECIMAL(10,3), at DATETIME(6), ' +
        'stamp TIMESTAMP(6) NULL, doc JSON, bin BLOB, name VARCHAR(20), ratio DOUBLE, day DATE)',
    )
    const sink = newSink()
    const source = await running(db, sink)
    try {
      db.sql(
        "INSERT INTO shapes VALUES (1, 9007199254740993, 12.5, '2026-01-02 03:04:05.123456', " +
          "'2026-01-02 03:04:05.654321', '{\"a\":[1,{\"b\":null}]}', x'00ff10', 'hé', 1.5, '2026-03-04')",
      )
      db.sql(
        "BEGIN; UPDATE shapes SET name = 'x' WHERE id = 1; DELETE FROM shapes WHERE id = 1; COMMIT",
      )
      db.sql('INSERT INTO shapes (id) VALUES (2); TRUNCATE TABLE shapes')
      await until(() => sink.count() === 5, 'five changes')
      const [c, u, d, c2, t] = sink.changes()
      const gtid = (n: number) => `0-1-${n}`
      const pos = db.sql('SELECT @@gtid_binlog_pos')
      const last = Number(pos.split('-')[2])

      assert.equal(c!.detailType, 'test.shapes')
      assert.equal(c!.detail.op, 'c')
      assert.deepEqual(c!.detail.key, { id: 1 })
      assert.equal(c!.detail.before, null)
      assert.deepEqual(c!.detail.after, {
        id: 1,
        big: '9007199254740993',
        price: '12.500',
        at: '2026-01-02T03:04:05.123456',
        stamp: '2026-01-02T03:04:05.654321Z',
        doc: { a: [1, { b: null }] },
        bin: Buffer.from([0, 255, 16]).toString('base64'),
        name: 'hé',
        ratio: 1.5,
        day: '2026-03-04',
      })
      assert.equal(c!.detail.source.connector, 'mysql')
      assert.equal(c!.detail.source.schema, 'test')
      assert.equal(c!.detail.source.table, 'shapes')
      assert.equal(c!.detail.source.gtid, gtid(last - 3))
      assert.equal(c!.detail.source.seq, 0)
      assert.equal(c!.detail.source.snapshot, false)
      assert.ok(c!.detail.source.binlog!.file.startsWith('binlog.'))

      assert.equal(u!.detail.op, 'u')
      assert.equal(u!.detail.before!.name, 'hé')
      assert.equal(u!.detail.after!.name, 'x')
      assert.equal(d!.detail.op, 'd')
      assert.deepEqual(d!.detail.key, { id: 1 })
      assert.equal(d!.detail.after, null)
      assert.equal(d!.detail.before!.name, 'x')
      // one transaction: one GTID, positions 0 and 1
      assert.equal(u!.detail.source.gtid, gtid(last - 2))
      assert.equal(d!.detail.source.gtid, gtid(last - 2))
      assert.deepEqual([u!.detail.source.seq, d!.detail.source.seq], [0, 1])
      assert.deepEqual(d!.detail.transaction, { id: gtid(last - 2), order: 1 })

      assert.equal(c2!.detail.op, 'c')
      assert.equal(t!.detail.op, 't')
      assert.equal(t!.detailType, 'test.shapes')
      assert.equal(t!.detail.key, null)
      assert.equal(t!.detail.source.gtid, gtid(last))

      // versions order the changes as text; ids are distinct and derived from gtid:seq
      const versions = [c, u, d, c2, t].map((x) => x!.detail.source.version)
      assert.deepEqual([...versions].sort(), versions)
      assert.equal(new Set([c, u, d, c2, t].map((x) => x!.id)).size, 5)
      assert.match(c!.id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)

      // the checkpoint is the server's position after the last transaction
      await until(() => sink.checkpoint() === pos, 'the checkpoint to reach the truncate')
    } finally {
      await source.stop()
      sink.close()
    }
  })

  test('DDL re-reads the table, other databases move only the checkpoint, lag returns to zero', async () => {
    db.sql('CREATE TABLE ddl (id INT PRIMARY KEY)')
    const sink = newSink()
    const source = await running(db, sink, { detailTypeWithOp: true })
    try {
      db.sql('INSERT INTO ddl VALUES (1)')
      db.sql('ALTER TABLE ddl ADD COLUMN doc JSON')
      db.sql('INSERT INTO ddl VALUES (2, \'{"x":[1]}\')')
      await until(() => sink.count() === 2, 'two inserts')
      const [one, two] = sink.changes()
      assert.equal(one!.detailType, 'test.ddl.c')
      assert.deepEqual(one!.detail.after, { id: 1 })
      // the JSON column added by the ALTER decodes as JSON: its definition was read again
      assert.deepEqual(two!.detail.after, { id: 2, doc: { x: [1] } })

      db.sql('CREATE DATABASE elsewhere; CREATE TABLE elsewhere.t (id INT PRIMARY KEY)')
      db.sql('INSERT INTO elsewhere.t VALUES (1)')
      const pos = db.sql('SELECT @@gtid_binlog_pos')
      await until(() => sink.checkpoint() === pos, 'the checkpoint past the other database')
      assert.equal(sink.count(), 2)
      await until(() => source.status().lagBytes === 0, 'no lag once caught up')
      assert.equal(source.status().lagSeconds, 0)
      assert.equal(source.status().checkpoint, pos)
      assert.equal(source.status().changesCaptured, 2)
    } finally {
      await source.stop()
      sink.close()
    }
  })

  test('a restart resumes exactly at the checkpoint: nothing lost, nothing repeated', async () => {
    db.sql('CREATE TABLE resume (id INT PRIMARY KEY, note VARCHAR(10))')
    const sink = newSink()
    let source = await running(db, sink)
    try {
      for (let i = 1; i <= 5; i++) db.sql(`INSERT INTO resume VALUES (${i}, 'up')`)
      await until(() => sink.count() === 5, 'five changes before the stop')
      await source.stop()
      // the server no longer serves it a binlog dump (zongji's own stop is not trusted)
      await until(
        () => !db.sql('SHOW PROCESSLIST').includes('Binlog Dump'),
        'the dump thread to go',
      )
      assert.equal(source.status().state, 'stopped')
      // written while the source is down
      for (let i = 6; i <= 10; i++) db.sql(`INSERT INTO resume VALUES (${i}, 'down')`)
      db.sql("UPDATE resume SET note = 'both' WHERE id <= 2")
      source = await running(db, sink)
      db.sql('DELETE FROM resume WHERE id = 10')
      await until(() => sink.count() >= 13, 'the changes written while stopped, and after')
      await until(() => sink.checkpoint() === db.sql('SELECT @@gtid_binlog_pos'), 'checkpoint')
      const all = sink.changes().filter((c) => c.detail.source.table === 'resume')
      assert.equal(all.length, 13)
      assert.equal(new Set(all.map((c) => c.id)).size, 13)
      assert.deepEqual(
        all.map((c) => `${c.detail.op}${String(c.detail.key!.id)}`),
        ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9', 'c10', 'u1', 'u2', 'd10'],
      )
    } finally {
      await source.stop()
      sink.close()
    }
  })

  test('a snapshot reads the tables first, then streams from its position', async () => {
    db.sql('CREATE DATABASE snap; CREATE TABLE snap.items (id INT PRIMARY KEY, v BIGINT)')
    db.sql('INSERT INTO snap.items VALUES (1, 10), (2, 20), (3, 30)')
    db.sql('UPDATE snap.items SET v = 21 WHERE id = 2; DELETE FROM snap.items WHERE id = 3')
    // as an account with only the privileges docs/cdc-mysql.md asks for
    db.sql(
      "CREATE USER 'cdc'@'127.0.0.1'; GRANT REPLICATION SLAVE, BINLOG MONITOR, SELECT ON *.* TO 'cdc'@'127.0.0.1'",
    )
    const url = db.url.replace(/\/test$/, '/snap').replace('root@', 'cdc@')
    const sink = newSink()
    const source = createMysqlSource(definition(url, { snapshot: true }), sink, deps())
    await source.start()
    try {
      await until(() => source.status().state === 'streaming', 'streaming after the snapshot')
      db.sql('INSERT INTO snap.items VALUES (4, 40)')
      db.sql('UPDATE snap.items SET v = 11 WHERE id = 1')
      await until(() => sink.count() === 4, 'two snapshot rows and two streamed changes')
      const [r1, r2, c4, u1] = sink.changes()
      assert.deepEqual(
        [r1, r2].map((r) => [r!.detail.op, r!.detail.after, r!.detail.source.snapshot]),
        [
          ['r', { id: 1, v: '10' }, true],
          ['r', { id: 2, v: '21' }, true],
        ],
      )
      assert.equal(r1!.detailType, 'snap.items')
      assert.deepEqual([c4!.detail.op, c4!.detail.after], ['c', { id: 4, v: '40' }])
      assert.deepEqual([u1!.detail.op, u1!.detail.after], ['u', { id: 1, v: '11' }])
      // every streamed change orders after every snapshot row
      for (const r of [r1!, r2!]) {
        for (const s of [c4!, u1!]) assert.ok(r.detail.source.version < s.detail.source.version)
      }
    } finally {
      await source.stop()
      sink.close()
    }
  })

  test("the write-back target's writes (skip_replication) are not captured, unless asked", async () => {
    db.sql('CREATE TABLE echo (id INT PRIMARY KEY, who VARCHAR(10))')
    const sink = newSink()
    const own = newSink()
    const source = await running(db, sink)
    const everything = await running(db, own, {
      name: 'everything',
      captureOwnWrites: true,
    })
    try {
      db.sql("INSERT INTO echo VALUES (1, 'app')")
      db.sql(
        "SET SESSION skip_replication = 1; INSERT INTO echo VALUES (2, 'sink'); UPDATE echo SET who = 'sink' WHERE id = 1",
      )
      db.sql("INSERT INTO echo VALUES (3, 'app')")
      await until(() => own.count() === 4, 'the source that captures everything')
      await until(() => sink.count() === 2, 'the app writes')
      await until(() => sink.checkpoint() === db.sql('SELECT @@gtid_binlog_pos'), 'checkpoint')
      assert.deepEqual(
        sink.changes().map((c) => c.detail.after),
        [
          { id: 1, who: 'app' },
          { id: 3, who: 'app' },
        ],
      )
    } finally {
      await source.stop()
      await everything.stop()
      sink.close()
      own.close()
    }
  })

  test('a transaction larger than the limit is committed in parts; a slow store pauses the binlog', async () => {
    db.sql('CREATE TABLE big (id INT PRIMARY KEY, pad VARCHAR(100))')
    const sink = newSink()
    const logs: string[] = []
    const logged = {
      ...deps(),
      log: pino({ level: 'debug' }, { write: (line: string) => logs.push(line) }),
    }
    const source = createMysqlSource(definition(db.url), sink, logged, {
      maxTransactionChanges: 100,
      lagPollMs: 100,
      silenceMs: 3000,
    })
    await source.start()
    await until(() => source.status().state === 'streaming', 'streaming')
    const checkpoints: (string | undefined)[] = []
    const commit = sink.commit.bind(sink)
    // the first part's commit waits until the source has paused its binlog connection
    let held = true
    sink.commit = async (batch) => {
      checkpoints.push(batch.checkpoint)
      if (held) {
        held = false
        await until(() => logs.some((l) => l.includes('binlog paused')), 'the binlog paused')
        // behind the server, in bytes and seconds
        await until(() => {
          const { lagBytes, lagSeconds } = source.status()
          return (lagBytes ?? 0) > 0 && (lagSeconds ?? 0) > 0
        }, 'the lag to show')
        // longer than the silence after which a connection counts as lost: a wait the source
        // imposed is no silence of the server
        await new Promise((r) => setTimeout(r, 7000))
      }
      await commit(batch)
    }
    try {
      const before = sink.checkpoint()
      const singles = Array.from(
        { length: 300 },
        (_, i) => `INSERT INTO big VALUES (${2000 + i}, 'single');`,
      ).join(' ')
      db.sql(
        `BEGIN; INSERT INTO big SELECT seq, REPEAT('x', 100) FROM seq_1_to_1050; COMMIT; ${singles}`,
      )
      await until(() => sink.count() === 1350, 'the big transaction and the small ones')
      const parts = new Map<number, number>()
      for (const c of sink.changes().slice(0, 1050)) {
        parts.set(c.commit, (parts.get(c.commit) ?? 0) + 1)
      }
      assert.deepEqual([...parts.values()], [...Array<number>(10).fill(100), 50])
      // of the big transaction's 11 commits only the last moves the checkpoint
      assert.deepEqual(
        checkpoints.slice(0, 11).map((c) => c !== undefined),
        [...Array<boolean>(10).fill(false), true],
      )
      assert.notEqual(before, sink.checkpoint())
      const seqs = sink
        .changes()
        .slice(0, 1050)
        .map((c) => c.detail.source.seq)
      assert.deepEqual(seqs, [...Array(1050).keys()])
      await until(() => sink.checkpoint() === db.sql('SELECT @@gtid_binlog_pos'), 'checkpoint')
      assert.ok(logs.some((l) => l.includes('binlog resumed')))
      assert.ok(!logs.some((l) => l.includes('reconnecting')), 'no reconnect')
      assert.equal(sink.count(), 1350)
    } finally {
      await source.stop()
      sink.close()
    }
  })

  test('a change over the size limit follows the oversize policy', async () => {
    db.sql('CREATE TABLE wide (id INT PRIMARY KEY, body TEXT)')
    const small = { ...deps(), maxEventBytes: 2000 }
    const sink = newSink()
    const keyOnly = createMysqlSource(definition(db.url, { oversize: 'key-only' }), sink, small)
    const failing = createMysqlSource(
      definition(db.url, { name: 'strict', oversize: 'fail' }),
      newSink(),
      small,
    )
    await keyOnly.start()
    await failing.start()
    try {
      await until(
        () => keyOnly.status().state === 'streaming' && failing.status().state === 'streaming',
        'both streaming',
      )
      db.sql("INSERT INTO wide VALUES (1, 'short'), (2, REPEAT('y', 5000))")
      await until(() => sink.count() === 2, 'both rows')
      const [fits, cut] = sink.changes()
      assert.deepEqual(fits!.detail.after, { id: 1, body: 'short' })
      assert.equal(fits!.detail.truncated, undefined)
      assert.deepEqual(cut!.detail.key, { id: 2 })
      assert.equal(cut!.detail.after, null)
      assert.deepEqual(cut!.detail.truncated, ['id', 'body'])
      await until(() => failing.status().state === 'failed', 'the strict source to stop')
      assert.match(
        failing.status().error ?? '',
        /test\.wide \{"id":2\} .* exceeds the event size limit of 2000 bytes/,
      )
    } finally {
      await keyOnly.stop()
      await failing.stop()
      sink.close()
    }
  })

  test('missing privileges and binlog settings stop the source with the fix', async () => {
    db.sql("CREATE USER 'weak'@'127.0.0.1'; GRANT SELECT ON *.* TO 'weak'@'127.0.0.1'")
    const weak = createMysqlSource(definition(db.url.replace('root@', 'weak@')), newSink(), deps())
    // marked as a failure retrying cannot fix, for the sources' runner
    await assert.rejects(
      weak.start(),
      (e: Error & { needsHuman?: boolean }) =>
        /REPLICATION SLAVE.*GRANT/.test(e.message) && e.needsHuman === true,
    )
    assert.equal(weak.status().state, 'failed')
    assert.match(weak.status().error ?? '', /BINLOG MONITOR/)
    await weak.stop()

    db.sql(
      "SET GLOBAL binlog_format = 'MIXED'; SET GLOBAL binlog_row_image = 'MINIMAL'; SET GLOBAL binlog_row_metadata = 'MINIMAL'",
    )
    try {
      const source = createMysqlSource(definition(db.url), newSink(), deps())
      const err = await source.start().then(
        () => undefined,
        (e: unknown) => e as Error,
      )
      assert.ok(err)
      assert.match(err.message, /binlog_format is MIXED, not ROW: SET GLOBAL binlog_format = 'ROW'/)
      assert.match(err.message, /binlog_row_image is MINIMAL, not FULL/)
      assert.match(err.message, /binlog_row_metadata is MINIMAL, not FULL/)
      await source.stop()
    } finally {
      db.sql(
        "SET GLOBAL binlog_format = 'ROW'; SET GLOBAL binlog_row_image = 'FULL'; SET GLOBAL binlog_row_metadata = 'FULL'",
      )
    }
  })
})

test('a server without the binary log is refused with the fix', async () => {
  const db = await startMariaDb({ args: ['--skip-log-bin'] })
  try {
    const source = createMysqlSource(definition(db.url), newSink(), deps())
    await assert.rejects(source.start(), /the binary log is off: start the server with log_bin/)
    assert.equal(source.status().state, 'failed')
    await source.stop()
  } finally {
    await db.destroy()
  }
})

test('a server killed under a live source: the source reconnects and resumes from its checkpoint', async () => {
  const db = await startMariaDb()
  const sink = newSink()
  try {
    db.sql('CREATE TABLE crash (id INT PRIMARY KEY)')
    const source = await running(db, sink, {}, { reconnectDelayMs: 100, silenceMs: 3000 })
    try {
      for (let i = 1; i <= 20; i++) db.sql(`INSERT INTO crash VALUES (${i})`)
      await until(() => sink.count() >= 10, 'some changes before the kill')
      await db.kill()
      await until(() => source.status().state === 'reconnecting', 'the source to notice')
      await db.start()
      for (let i = 21; i <= 40; i++) db.sql(`INSERT INTO crash VALUES (${i})`)
      await until(() => source.status().state === 'streaming', 'streaming again')
      await until(
        () => new Set(sink.changes().map((c) => c.detail.key!.id)).size === 40,
        'every row captured',
      )
      // a row seen twice carries the same id both times
      const ids = new Map<unknown, Set<string>>()
      for (const c of sink.changes()) {
        const key = c.detail.key!.id
        ids.set(key, (ids.get(key) ?? new Set()).add(c.id))
      }
      for (const [key, set] of ids) assert.equal(set.size, 1, `row ${String(key)} has one id`)

      // a hung server (SIGSTOP: the socket stays open, nothing answers) sends no heartbeat:
      // the source drops the connection and comes back once the server does
      const pid = Number(readFileSync(join(dirname(db.dataDir), 'mysqld.pid'), 'utf8'))
      process.kill(pid, 'SIGSTOP')
      try {
        await until(() => source.status().state === 'reconnecting', 'the silence to be noticed')
      } finally {
        process.kill(pid, 'SIGCONT')
      }
      db.sql('INSERT INTO crash VALUES (41)')
      await until(
        () => sink.changes().some((c) => c.detail.key!.id === 41),
        'the row written after the hang',
      )
      // and a stop returns while the server hangs
      process.kill(pid, 'SIGSTOP')
      try {
        await source.stop()
        assert.equal(source.status().state, 'stopped')
      } finally {
        process.kill(pid, 'SIGCONT')
      }
    } finally {
      await source.stop()
    }
  } finally {
    sink.close()
    await db.destroy()
  }
})

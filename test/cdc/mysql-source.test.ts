/**
 * The MySQL/MariaDB change-capture source against throwaway MariaDB servers: the shape of
 * insert, update, delete and truncate events and their values; resuming exactly at the
 * checkpoint; the initial snapshot; a server killed under a live source; clear errors for
 * missing binlog settings and privileges; the write-back target's writes left out; a large
 * transaction committed in bounded parts.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
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
})

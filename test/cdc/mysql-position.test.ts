/**
 * Positions of the MySQL source without a server: checkpoints in the server's own GTID forms,
 * versions that order as text where the numbers do, ids that depend on the whole position.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { changeId, changeVersion, GtidPosition } from '../../src/cdc/mysql/position.js'
import { detailTypeOf } from '../../src/cdc/mysql/changes.js'
import { definition } from './mysql-sink.js'

test('a MariaDB checkpoint records the last transaction per domain', () => {
  const p = GtidPosition.parse('mariadb', '0-1-9, 1-3-45')
  p.add('0-1-10')
  p.add('1-3-46')
  assert.equal(p.toString(), '0-1-10,1-3-46')
  // after a failover the domain continues under the new server id
  p.add('0-2-11')
  assert.equal(p.toString(), '0-2-11,1-3-46')
  assert.equal(GtidPosition.parse('mariadb', '').toString(), '')
  assert.throws(() => GtidPosition.parse('mariadb', 'uuid:1-5'), /not a MariaDB GTID position/)
})

test('a MySQL checkpoint is a GTID set', () => {
  const uuid = '3e11fa47-71ca-11e1-9e33-c80aa9429562'
  const p = GtidPosition.parse('mysql', `${uuid}:1-27`)
  p.add(`${uuid}:28`)
  assert.equal(p.toString(), `${uuid}:1-28`)
})

test('versions order as text the way sequence numbers and positions order', () => {
  const pairs: [string, number][] = [
    ['0-1-9', 0],
    ['0-1-9', 1],
    ['0-1-10', 0],
    ['0-2-11', 0], // a new primary continues the sequence: still later
    ['0-1-100', 0],
    ['0-1-18446744073709551615', 0],
  ]
  const versions = pairs.map(([g, s]) => changeVersion('mariadb', g, s))
  assert.deepEqual([...versions].sort(), versions)
  assert.equal(versions[0], '0000000000-00000000000000000009:0000000000')
  const uuid = '3e11fa47-71ca-11e1-9e33-c80aa9429562'
  assert.ok(changeVersion('mysql', `${uuid}:9`, 5) < changeVersion('mysql', `${uuid}:10`, 0))
})

test("a snapshot's version is below every change streamed after it", () => {
  const snap = GtidPosition.parse('mariadb', '0-1-41').snapshotVersion()
  assert.ok(snap <= changeVersion('mariadb', '0-1-41', 0))
  assert.ok(snap < changeVersion('mariadb', '0-1-42', 0))
  assert.ok(snap > changeVersion('mariadb', '0-1-40', 7))
  const empty = GtidPosition.parse('mariadb', '').snapshotVersion()
  assert.ok(empty < changeVersion('mariadb', '0-1-1', 0))
  const uuid = '3e11fa47-71ca-11e1-9e33-c80aa9429562'
  const mysql = GtidPosition.parse('mysql', `${uuid}:1-27`).snapshotVersion()
  assert.ok(mysql < changeVersion('mysql', `${uuid}:28`, 0))
})

test('ids depend on the source and the whole position', () => {
  const a = changeId('111111111111/us-east-1/legacy', '0-1-9:0')
  assert.equal(a, changeId('111111111111/us-east-1/legacy', '0-1-9:0'))
  assert.notEqual(a, changeId('111111111111/us-east-1/legacy', '0-1-9:1'))
  assert.notEqual(a, changeId('222222222222/us-east-1/legacy', '0-1-9:0'))
})

test('a detail-type longer than 128 characters is cut and stays unique', () => {
  const def = definition('mysql://root@127.0.0.1:1/x', { detailTypeWithOp: true })
  const long = 'a'.repeat(64)
  const one = detailTypeOf(def, long, `${long}1`, 'c')
  const two = detailTypeOf(def, long, `${long}2`, 'c')
  assert.equal(one.length, 128)
  assert.notEqual(one, two)
  assert.equal(detailTypeOf(def, 'shop', 'orders', 'd'), 'shop.orders.d')
})

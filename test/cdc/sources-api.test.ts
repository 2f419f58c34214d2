/**
 * `/junction/sources` and `junction sources`: validation errors, duplicates and unknown names,
 * the password masked in answers, a source's status with the database's own problems (no
 * publication, no REPLICATION privilege, wal_level not logical) stated with their fix, and
 * `remove --drop-slot`. A real `junction serve` process and real PostgreSQL servers.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { startPostgres, type PostgresServer } from '../helpers/postgres.js'
import type { ServerProcess } from '../helpers/server.js'
import { ACCOUNT, servers, sourcesCall, waitForStatus } from './harness.js'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
let pg: PostgresServer
let server: ServerProcess
const procs = servers()

before(async () => {
  pg = await startPostgres()
  pg.sql(`CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION pub FOR TABLE t;
    CREATE ROLE app LOGIN PASSWORD 'secret'`)
  server = await procs.start(procs.dir())
})

after(async () => {
  await procs.cleanup()
  await pg.destroy()
})

/** The `junction` command against the server; exit code and output. */
async function junction(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args, '--endpoint-url', server.url],
      { cwd: repo, env: { ...process.env, AWS_ACCESS_KEY_ID: ACCOUNT } },
    )
    return { code: 0, out: r.stdout, err: r.stderr }
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string }
    return { code: x.code, out: x.stdout, err: x.stderr }
  }
}

const refused = async (body: Record<string, unknown>, type: string, message: RegExp) => {
  const r = await sourcesCall(server.url, 'POST', '', body)
  assert.equal(r.status, 400, JSON.stringify(r.body))
  assert.equal(r.body.__type, type)
  assert.match(String(r.body.message), message)
}

test('bad definitions are refused with a clear error', async () => {
  const ok = { name: 's1', url: pg.url, publication: 'pub', busName: 'default' }
  await refused({ ...ok, name: 'bad name!' }, 'ValidationException', /1 to 64 letters/)
  await refused({ ...ok, name: 'x'.repeat(65) }, 'ValidationException', /1 to 64/)
  await refused({ ...ok, url: 'http://db/x' }, 'ValidationException', /postgres:\/\//)
  await refused({ ...ok, publication: undefined }, 'ValidationException', /publication/)
  await refused({ ...ok, busName: 'nope' }, 'ResourceNotFoundException', /nope does not exist/)
  await refused({ ...ok, oversize: 'shrink' }, 'ValidationException', /oversize/)
  await refused({ ...ok, slot: 'Bad-Slot' }, 'ValidationException', /slot name/)
  const bad = await fetch(`${server.url}/junction/sources`, { method: 'POST', body: '{' })
  assert.equal(((await bad.json()) as { __type: string }).__type, 'SerializationException')
})

test('create, duplicate, get with status, list masks the password, unknown names', async () => {
  const url = pg.url.replace('postgres@', 'app:secret@')
  const created = await sourcesCall(server.url, 'POST', '', {
    name: 'masked',
    url,
    publication: 'pub',
    busName: 'default',
  })
  assert.equal(created.status, 200)
  assert.ok(!JSON.stringify(created.body).includes('secret'))
  assert.match(String(created.body.url), /app:\*\*\*\*@/)
  await refused(
    { name: 'masked', url, publication: 'pub', busName: 'default' },
    'ResourceAlreadyExistsException',
    /masked already exists/,
  )
  const list = await sourcesCall(server.url, 'GET')
  assert.ok(!JSON.stringify(list.body).includes('secret'))
  assert.deepEqual(
    (list.body.sources as { name: string }[]).map((s) => s.name),
    ['masked'],
  )
  // app has no REPLICATION privilege: the source fails and says how to grant it.
  const s = await waitForStatus(server.url, 'masked', (x) => x.state === 'failed')
  assert.match(String(s.error), /REPLICATION privilege/)
  const missing = await sourcesCall(server.url, 'GET', '/nothing')
  assert.equal(missing.body.__type, 'ResourceNotFoundException')
  const gone = await sourcesCall(server.url, 'DELETE', '/nothing')
  assert.equal(gone.body.__type, 'ResourceNotFoundException')
  assert.equal((await sourcesCall(server.url, 'DELETE', '/masked')).status, 200)
  assert.equal((await sourcesCall(server.url, 'GET', '/masked')).status, 400)
})

test('a missing publication and wal_level not logical fail the source with the fix', async () => {
  await sourcesCall(server.url, 'POST', '', {
    name: 'nopub',
    url: pg.url,
    publication: 'absent',
    busName: 'default',
  })
  const s = await waitForStatus(server.url, 'nopub', (x) => x.state === 'failed')
  assert.match(String(s.error), /publication absent does not exist/)
  const replica = await startPostgres({ conf: ['wal_level = replica'] })
  try {
    await sourcesCall(server.url, 'POST', '', {
      name: 'nolevel',
      url: replica.url,
      publication: 'pub',
      busName: 'default',
    })
    const f = await waitForStatus(server.url, 'nolevel', (x) => x.state === 'failed')
    assert.match(String(f.error), /set wal_level = logical in postgresql.conf and restart/)
  } finally {
    await sourcesCall(server.url, 'DELETE', '/nolevel')
    await replica.destroy()
  }
  await sourcesCall(server.url, 'DELETE', '/nopub')
})

test('junction sources add, list and remove --drop-slot', async () => {
  const added = await junction(
    'sources',
    'add',
    'cli',
    '--postgres',
    pg.url,
    '--publication',
    'pub',
    '--bus',
    'default',
    '--detail-type-with-op',
  )
  assert.equal(added.code, 0, added.err)
  assert.match(added.out, /added cli/)
  await waitForStatus(server.url, 'cli', (x) => x.state === 'streaming')
  assert.equal(
    pg.sql(`SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'junction_cli'`),
    '1',
  )
  const listed = await junction('sources', 'list')
  assert.equal(listed.code, 0, listed.err)
  assert.match(listed.out, /^cli\s+postgres\s+default\s+streaming/m)
  const again = await junction(
    'sources',
    'add',
    'cli',
    '--postgres',
    pg.url,
    '--publication',
    'pub',
    '--bus',
    'default',
  )
  assert.equal(again.code, 1)
  assert.match(again.err, /ResourceAlreadyExistsException: Source cli already exists/)
  const both = await junction('sources', 'add', 'x', '--bus', 'default')
  assert.equal(both.code, 2)
  assert.match(both.err, /exactly one of --postgres URL or --mysql URL/)
  const removed = await junction('sources', 'remove', 'cli', '--drop-slot')
  assert.equal(removed.code, 0, removed.err)
  assert.equal(
    pg.sql(`SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'junction_cli'`),
    '0',
  )
  const unknown = await junction('sources', 'remove', 'cli')
  assert.equal(unknown.code, 1)
  assert.match(unknown.err, /ResourceNotFoundException/)
})

// The Lambda provisioner's code helpers: the in-memory zip is read by Python's zipfile (an
// independent reader), byte-identical for the same files; the fingerprint of a directory is
// the server's CodeSha256 for it.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { hashDirectory } from '../../src/functions/code-dir.js'
import { codeFingerprint, zip } from '../../src/deploy/resources/local-code.js'

test('the zip writer makes an archive Python reads back, the same bytes for the same files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'junction-zip-'))
  const text = 'exports.handler = async () => "ünïcode"\n'.repeat(50)
  const files = [
    { name: 'index.js', data: Buffer.from(text) },
    { name: 'lib/util.js', data: Buffer.from('module.exports = 1\n') },
  ]
  const bytes = zip(files)
  assert.deepEqual(zip(files), bytes)
  writeFileSync(join(dir, 'a.zip'), bytes)
  const read = execFileSync(
    '/usr/bin/python3',
    [
      '-c',
      'import sys, zipfile, json\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps({n: z.read(n).decode() for n in z.namelist()}))',
      join(dir, 'a.zip'),
    ],
    { encoding: 'utf8' },
  )
  assert.deepEqual(JSON.parse(read), { 'index.js': text, 'lib/util.js': 'module.exports = 1\n' })
})

test('fingerprints: a zip is its SHA-256; a directory hashes paths and contents', async () => {
  const bytes = Buffer.from('not really a zip')
  assert.equal(
    await codeFingerprint({ kind: 'zip', ZipFile: bytes, source: 'x' }),
    createHash('sha256').update(bytes).digest('base64'),
  )
  const dir = mkdtempSync(join(tmpdir(), 'junction-fp-'))
  writeFileSync(join(dir, 'index.mjs'), 'a')
  const code = { kind: 'directory' as const, S3Bucket: 'hot-reload', S3Key: dir, source: dir }
  const first = await codeFingerprint(code)
  assert.equal(first, (await hashDirectory(dir)).sha256)
  writeFileSync(join(dir, '.swp'), 'ignored')
  assert.equal(await codeFingerprint(code), first)
  writeFileSync(join(dir, 'index.mjs'), 'b')
  assert.notEqual(await codeFingerprint(code), first)
})

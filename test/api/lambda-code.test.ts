/**
 * Deployment packages on disk: zips made by Python's zipfile (not by the code under test),
 * unpacked into the function's directory with their executable bits; links only inside the
 * package; Lambda's unzipped limit (262,144,000 bytes) and its message.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, readlinkSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { CodeError, storeCode } from '../../src/functions/code.js'

const work = mkdtempSync(join(tmpdir(), 'junction-code-'))
const where = { account: '000000000000', region: 'us-east-1', name: 'f' }

/** Runs a Python snippet with `z`, a zipfile.ZipFile open for writing; returns the zip's bytes. */
function pythonZip(body: string): Buffer {
  const file = join(work, `${String(Math.random()).slice(2)}.zip`)
  execFileSync('/usr/bin/python3', [
    '-c',
    `import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:\n${body
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}`,
    file,
  ])
  return readFileSync(file)
}

test('files land under account/region/name/<hex sha>, executable bits kept, links inside kept', async () => {
  const zip = pythonZip(
    [
      'i = zipfile.ZipInfo("bootstrap"); i.external_attr = 0o100755 << 16',
      'z.writestr(i, "#!/bin/sh\\necho hi\\n")',
      'z.writestr("lib/data.txt", "data")',
      'l = zipfile.ZipInfo("link.txt"); l.external_attr = 0o120777 << 16',
      'z.writestr(l, "lib/data.txt")',
    ].join('\n'),
  )
  const root = join(work, 'root1')
  const stored = await storeCode(root, where, zip)
  const hex = createHash('sha256').update(zip).digest('hex')
  assert.equal(stored.dir, join(root, '000000000000', 'us-east-1', 'f', hex))
  assert.equal(stored.sha256, createHash('sha256').update(zip).digest('base64'))
  assert.equal(stored.size, zip.length)
  assert.equal(statSync(join(stored.dir, 'bootstrap')).mode & 0o111, 0o111)
  assert.equal(readFileSync(join(stored.dir, 'lib/data.txt'), 'utf8'), 'data')
  assert.equal(readlinkSync(join(stored.dir, 'link.txt')), 'lib/data.txt')
  assert.deepEqual(readFileSync(stored.zipFile), zip)
  // The same package again is the same directory.
  assert.deepEqual(await storeCode(root, where, zip), stored)
})

test('a link out of the package or an absolute path is refused', async () => {
  for (const body of [
    'l = zipfile.ZipInfo("out"); l.external_attr = 0o120777 << 16\nz.writestr(l, "../../../../etc/passwd")',
    'l = zipfile.ZipInfo("abs"); l.external_attr = 0o120777 << 16\nz.writestr(l, "/etc/passwd")',
    'z.writestr(zipfile.ZipInfo("../../up.txt"), "x")',
  ]) {
    await assert.rejects(storeCode(join(work, 'root2'), where, pythonZip(body)), (e: unknown) => {
      assert.ok(e instanceof CodeError)
      assert.equal(e.code, 'InvalidParameterValueException')
      return true
    })
  }
})

test('250 MB unzipped is refused with Lambda message', async () => {
  const zip = pythonZip(
    'with z.open("big.bin", "w", force_zip64=False) as f:\n    for _ in range(250):\n        f.write(bytes(1048576))',
  )
  await assert.rejects(storeCode(join(work, 'root3'), where, zip), (e: unknown) => {
    assert.ok(e instanceof CodeError)
    assert.equal(e.code, 'InvalidParameterValueException')
    assert.equal(e.message, 'Unzipped size must be smaller than 262144000 bytes')
    return true
  })
})

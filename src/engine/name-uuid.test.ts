import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { nameUuid } from './name-uuid.js'

/** RFC 4122 §4.3 by hand over createHash: the ids stored before must be the ids made now. */
function reference(name: string): string {
  const h = createHash('sha1').update(name).digest()
  h[6] = (h[6]! & 0x0f) | 0x50
  h[8] = (h[8]! & 0x3f) | 0x80
  const x = h.subarray(0, 16).toString('hex')
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`
}

test('the same id as SHA-1 with the version and variant bits set by hand, for many names', () => {
  for (let i = 0; i < 2000; i++) {
    const name = `junction.cdc\n111111111111\nus-east-1\norders\n16/B374D${String(i)}:${String(i % 7)}`
    const id = nameUuid(name)
    assert.equal(id, reference(name))
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  }
  assert.equal(nameUuid('ünïcode 🚚'), reference('ünïcode 🚚'))
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { replayedText } from './replays.js'

test('replay-name goes between region and resources, even when a string holds "resources"', () => {
  const text =
    '{"version":"0","id":"1","detail-type":"a\\",\\"resources\\":","source":"s","account":"1","time":"t","region":"r","resources":["x"],"detail":{"resources":1}}'
  const out = replayedText(text, 'my-replay')
  const parsed = JSON.parse(out) as Record<string, unknown>
  assert.deepEqual(Object.keys(parsed), [
    'version',
    'id',
    'detail-type',
    'source',
    'account',
    'time',
    'region',
    'replay-name',
    'resources',
    'detail',
  ])
  assert.equal(parsed['replay-name'], 'my-replay')
  assert.equal(parsed['detail-type'], 'a","resources":')
})

/**
 * `junction serve`'s settings as flags and `JUNCTION_*` variables give them: the heap growth
 * that bounds the garbage around the windows (docs/server.md, Memory).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { serveConfig } from '../../src/cli/commands/serve.js'

describe('serveConfig: heap growth', () => {
  test('50% unless told otherwise; a flag wins over the variable', () => {
    assert.equal(serveConfig({}, {}).heapGrowthPercent, 50)
    assert.equal(serveConfig({}, { JUNCTION_HEAP_GROWTH: '0' }).heapGrowthPercent, 0)
    assert.equal(serveConfig({}, { JUNCTION_HEAP_GROWTH: '200' }).heapGrowthPercent, 200)
    assert.equal(
      serveConfig({ heapGrowth: '25' }, { JUNCTION_HEAP_GROWTH: '200' }).heapGrowthPercent,
      25,
    )
  })

  test('anything but a whole percent from 0 to 1000 is refused, naming the setting', () => {
    for (const bad of ['x', '-1', '1001', '1.5', ''])
      assert.throws(
        () => serveConfig({ heapGrowth: bad }, {}),
        /^Error: invalid heap growth: .*a percent from 1 to 1000, or 0/,
        bad,
      )
    assert.throws(() => serveConfig({}, { JUNCTION_HEAP_GROWTH: '5000' }), /invalid heap growth/)
  })
})

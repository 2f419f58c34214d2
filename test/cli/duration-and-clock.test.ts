/**
 * Durations as `junction clock advance` and `--schedule-grace` take them, and the manual
 * clock's step-by-step advance that the server uses.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ManualClock } from '../../src/clock.js'
import { parseDuration } from '../../src/duration.js'

describe('parseDuration', () => {
  test('units and combinations', () => {
    assert.equal(parseDuration('90m'), 5_400_000)
    assert.equal(parseDuration('2h'), 7_200_000)
    assert.equal(parseDuration('1h30m'), 5_400_000)
    assert.equal(parseDuration('45s'), 45_000)
    assert.equal(parseDuration('250ms'), 250)
    assert.equal(parseDuration('1d'), 86_400_000)
    assert.equal(parseDuration('1.5h'), 5_400_000)
    assert.equal(parseDuration(' 5m '), 300_000)
  })

  test('anything else is refused with what is accepted', () => {
    for (const bad of ['', '5', 'm', '5 m', '-5m', '5x', '1h 30m', '5m!', 'ms'])
      assert.throws(() => parseDuration(bad), /invalid duration: .*for example 90m/, bad)
  })
})

describe('ManualClock.advanceStepwise', () => {
  test('fires timers in time order, waits between them, and lands on the end time', async () => {
    const clock = new ManualClock(1_000)
    const seen: string[] = []
    clock.setTimer(300, () => seen.push(`b@${String(clock.now())}`))
    clock.setTimer(100, () => {
      seen.push(`a@${String(clock.now())}`)
      // A timer set by a timer, within the window, fires in the same advance.
      clock.setTimer(50, () => seen.push(`c@${String(clock.now())}`))
    })
    const cancel = clock.setTimer(200, () => seen.push('cancelled'))
    cancel()
    clock.setTimer(600, () => seen.push('too late'))
    let waits = 0
    await clock.advanceStepwise(500, async () => {
      waits++
      await new Promise((r) => setImmediate(r))
    })
    assert.deepEqual(seen, ['a@1100', 'c@1150', 'b@1300'])
    assert.equal(waits, 3)
    assert.equal(clock.now(), 1_500)
  })
})

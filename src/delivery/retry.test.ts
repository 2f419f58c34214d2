import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_RETRY_POLICY } from '../model.js'
import { backoffMs, decideRetry, MAX_RETRY_DELAY_MS } from './retry.js'

test('backoff doubles from one second, with up to half of it random, capped at five minutes', () => {
  assert.equal(
    backoffMs(1, () => 0),
    500,
  )
  assert.equal(backoffMs(1, () => 0.999999) < 1000, true)
  assert.equal(
    backoffMs(2, () => 0),
    1000,
  )
  assert.equal(
    backoffMs(4, () => 0),
    4000,
  )
  assert.equal(
    backoffMs(40, () => 0),
    MAX_RETRY_DELAY_MS / 2,
  )
  assert.equal(backoffMs(40, () => 0.999999) < MAX_RETRY_DELAY_MS, true)
})

test('MaximumRetryAttempts counts retries: 0 means one attempt only', () => {
  const policy = { maximumRetryAttempts: 0, maximumEventAgeSeconds: 86_400 }
  assert.deepEqual(decideRetry(policy, 1, 0, 0), {
    retry: false,
    exhausted: 'MaximumRetryAttempts',
  })
  const two = { maximumRetryAttempts: 2, maximumEventAgeSeconds: 86_400 }
  assert.equal(decideRetry(two, 1, 0, 0, () => 0).retry, true)
  assert.equal(decideRetry(two, 2, 0, 0, () => 0).retry, true)
  assert.deepEqual(decideRetry(two, 3, 0, 0), { retry: false, exhausted: 'MaximumRetryAttempts' })
})

test('a retry that would fall after MaximumEventAgeInSeconds is not made', () => {
  const policy = { maximumRetryAttempts: 185, maximumEventAgeSeconds: 60 }
  assert.equal(decideRetry(policy, 1, 0, 58_000, () => 0).retry, true) // due at 58.5 s
  assert.deepEqual(
    decideRetry(policy, 1, 0, 59_600, () => 0),
    {
      retry: false,
      exhausted: 'MaximumEventAgeInSeconds',
    },
  )
})

test('with the defaults, 185 retries stay within about 24 hours', () => {
  let t = 0
  let attempts = 1
  for (;;) {
    const d = decideRetry(DEFAULT_RETRY_POLICY, attempts, 0, t, () => 0.5)
    if (!d.retry) break
    t = d.dueAt
    attempts++
  }
  assert.ok(attempts > 150, `only ${String(attempts)} attempts`)
  assert.ok(t <= 86_400_000)
})

test("a target's Retry-After delays the retry beyond the backoff, and can push it past the age limit", () => {
  const policy = { maximumRetryAttempts: 185, maximumEventAgeSeconds: 3600 }
  assert.deepEqual(
    decideRetry(policy, 1, 0, 0, () => 0, 120_000),
    { retry: true, dueAt: 120_000 },
  )
  assert.deepEqual(
    decideRetry(policy, 1, 0, 0, () => 0, 100),
    { retry: true, dueAt: 500 },
  )
  assert.deepEqual(
    decideRetry(policy, 1, 0, 0, () => 0, 4_000_000),
    {
      retry: false,
      exhausted: 'MaximumEventAgeInSeconds',
    },
  )
})

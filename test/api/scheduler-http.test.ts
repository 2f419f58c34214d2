/**
 * Scheduler's REST-JSON wire, read raw (what clients parse): members Debian's botocore does not
 * know yet (ActionAfterCompletion), the error form (`x-amzn-ErrorType` and `{"Message": …}` with
 * the model's status), the checks on bus targets, and a schedule deleted after its one
 * invocation (scheduler-cdc-consoles.md §1.3) on a manual clock.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startServer, type RunningServer } from '../../src/bus.js'
import { DEFAULTS } from '../../src/config.js'

let running: RunningServer

before(async () => {
  running = await startServer({
    ...DEFAULTS,
    port: 0,
    store: 'memory',
    clockKind: 'manual',
    logLevel: 'silent',
  })
})
after(async () => {
  await running.close()
})

const call = (method: string, path: string, body?: unknown) =>
  fetch(`${running.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

async function refused(r: Response, status: number, code: string): Promise<string> {
  assert.equal(r.status, status)
  assert.equal(r.headers.get('x-amzn-errortype'), code)
  const body = (await r.json()) as { Message: string }
  assert.equal(typeof body.Message, 'string')
  return body.Message
}

const pad = (n: number) => String(n).padStart(2, '0')
const atText = (ms: number) => {
  const d = new Date(ms)
  return `${String(d.getUTCFullYear())}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:00`
}

const ACCOUNT = '000000000000'
const busTarget = (extra: Record<string, unknown>) => ({
  Arn: `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default`,
  RoleArn: `arn:aws:iam::${ACCOUNT}:role/r`,
  ...extra,
})

describe('Scheduler over HTTP', () => {
  test('ActionAfterCompletion DELETE: returned by GetSchedule, then the schedule goes after firing', async () => {
    const fireAt = Math.floor(running.bus.clock.now() / 60_000) * 60_000 + 2 * 60_000
    const created = await call('POST', '/schedules/one-shot', {
      ScheduleExpression: `at(${atText(fireAt)})`,
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: busTarget({
        Input: '{"n":1}',
        EventBridgeParameters: { Source: 'app', DetailType: 'd' },
      }),
    })
    assert.equal(created.status, 200)
    const got = (await (await call('GET', '/schedules/one-shot')).json()) as Record<string, unknown>
    assert.equal(got.ActionAfterCompletion, 'DELETE')
    await running.bus.clock.advance(fireAt - running.bus.clock.now() - 1000)
    assert.equal((await call('GET', '/schedules/one-shot')).status, 200, 'still there before')
    await running.bus.clock.advance(1000)
    assert.equal(
      await refused(await call('GET', '/schedules/one-shot'), 404, 'ResourceNotFoundException'),
      'Schedule one-shot does not exist.',
    )
    // The name is free again.
    const again = await call('POST', '/schedules/one-shot', {
      ScheduleExpression: 'rate(1 hour)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: busTarget({ EventBridgeParameters: { Source: 'app', DetailType: 'd' } }),
    })
    assert.equal(again.status, 200)
  })

  test('a bus target needs a JSON object Input and EventBridgeParameters', async () => {
    const base = { ScheduleExpression: 'rate(1 hour)', FlexibleTimeWindow: { Mode: 'OFF' } }
    assert.equal(
      await refused(
        await call('POST', '/schedules/b1', {
          ...base,
          Target: busTarget({
            Input: 'not json',
            EventBridgeParameters: { Source: 'app', DetailType: 'd' },
          }),
        }),
        400,
        'ValidationException',
      ),
      'Target Input must be a well-formed JSON object for an EventBridge target.',
    )
    assert.equal(
      await refused(
        await call('POST', '/schedules/b2', { ...base, Target: busTarget({ Input: '{}' }) }),
        400,
        'ValidationException',
      ),
      'EventBridgeParameters must be provided for an EventBridge target.',
    )
    assert.match(
      await refused(
        await call('POST', '/schedules/b3', {
          ...base,
          Target: busTarget({ EventBridgeParameters: { Source: 'app' } }),
        }),
        400,
        'ValidationException',
      ),
      /Value null at 'target.eventBridgeParameters.detailType' failed to satisfy constraint: Member must not be null/,
    )
    for (const name of ['b1', 'b2', 'b3'])
      assert.equal((await call('GET', `/schedules/${name}`)).status, 404, `${name} not stored`)
  })

  test('required members and ranges', async () => {
    const message = await refused(
      await call('POST', '/schedules/x', { ScheduleExpression: 'rate(1 hour)' }),
      400,
      'ValidationException',
    )
    assert.equal(
      message,
      "2 validation errors detected: Value null at 'flexibleTimeWindow' failed to satisfy constraint: Member must not be null; Value null at 'target' failed to satisfy constraint: Member must not be null",
    )
    assert.equal(
      await refused(
        await call('POST', '/schedules/x', {
          ScheduleExpression: 'rate(1 hour)',
          StartDate: 2_000_000_000,
          EndDate: 1_999_999_999,
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: busTarget({ EventBridgeParameters: { Source: 'a', DetailType: 'd' } }),
        }),
        400,
        'ValidationException',
      ),
      'The EndDate must be after the StartDate.',
    )
  })
})

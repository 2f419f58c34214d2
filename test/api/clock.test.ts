/**
 * `/junction/clock` on a server with a manual clock: reading it, moving it (a scheduled rule's
 * tick due on the way is stored before the answer), and the refusals for bad requests.
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

const clock = (init?: RequestInit) => fetch(`${running.url}/junction/clock`, init)
const advance = (body: unknown) =>
  clock({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

describe('/junction/clock', () => {
  test('reads the manual clock, which stands still', async () => {
    const a = (await (await clock()).json()) as {
      epochMillis: number
      now: string
      manual: boolean
    }
    assert.equal(a.manual, true)
    assert.equal(new Date(a.epochMillis).toISOString(), a.now)
    await new Promise((r) => setTimeout(r, 20))
    const b = (await (await clock()).json()) as { epochMillis: number }
    assert.equal(b.epochMillis, a.epochMillis)
  })

  test('advance moves it, and a tick due on the way has fired when it answers', async () => {
    const { services } = running.bus
    const start = services.clock.now()
    const bus = services.registry.bus({ account: '000000000000', region: 'us-east-1' }, 'default')!
    await services.registry.putRule(
      {
        name: 'r',
        arn: 'arn:aws:events:us-east-1:000000000000:rule/r',
        busName: 'default',
        account: '000000000000',
        region: 'us-east-1',
        scheduleExpression: 'rate(1 minute)',
        scheduleSince: start,
        state: 'ENABLED',
        createdBy: '000000000000',
      },
      bus,
    )
    const res = await advance({ advance: '2m30s' })
    assert.equal(res.status, 200)
    const body = (await res.json()) as { epochMillis: number }
    assert.equal(body.epochMillis, start + 150_000)
    assert.deepEqual(
      await running.bus.store.events.scheduleTicks(),
      new Map([['arn:aws:events:us-east-1:000000000000:rule/r', start + 120_000]]),
    )
    const millis = (await (await advance({ advanceMillis: 1000 })).json()) as {
      epochMillis: number
    }
    assert.equal(millis.epochMillis, start + 151_000)
  })

  test('bad requests are refused with a ValidationException', async () => {
    for (const body of [
      {},
      { advance: 'soon' },
      { advance: '5m', advanceMillis: 1 },
      { advanceMillis: -1 },
      { advanceMillis: 1.5 },
      { advanceMillis: 367 * 86_400_000 },
      [],
    ]) {
      const res = await advance(body)
      assert.equal(res.status, 400, JSON.stringify(body))
      assert.equal(res.headers.get('x-amzn-errortype'), 'ValidationException')
      const err = (await res.json()) as { __type: string; message: string }
      assert.equal(err.__type, 'ValidationException')
      assert.ok(err.message.length > 0)
    }
    const notJson = await clock({ method: 'POST', body: '{' })
    assert.equal(notJson.status, 400)
    assert.equal((await clock({ method: 'DELETE' })).status, 405)
  })
})

/**
 * AWS's quotas where Junction applies them: 300 rules per bus (then LimitExceededException with
 * AWS's message; replacing a rule is not a new one) and 5 targets per rule.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createTestBus } from '../helpers/in-process.js'

describe('quotas', () => {
  test('300 rules per bus, then LimitExceededException; other buses are counted apart', async () => {
    const bus = await createTestBus()
    try {
      await bus.call('CreateEventBus', { Name: 'full' })
      for (let i = 0; i < 300; i++)
        await bus.call('PutRule', {
          Name: `r${String(i)}`,
          EventBusName: 'full',
          EventPattern: '{"source":["a"]}',
        })
      await assert.rejects(
        bus.call('PutRule', {
          Name: 'one-more',
          EventBusName: 'full',
          EventPattern: '{"source":["a"]}',
        }),
        {
          name: 'LimitExceededException',
          message: 'The requested resource exceeds the maximum number allowed.',
        },
      )
      // Replacing an existing rule is allowed at the quota.
      await bus.call('PutRule', {
        Name: 'r7',
        EventBusName: 'full',
        EventPattern: '{"source":["b"]}',
      })
      await bus.call('PutRule', { Name: 'elsewhere', EventPattern: '{"source":["a"]}' })
      await bus.call('DeleteRule', { Name: 'r0', EventBusName: 'full' })
      await bus.call('PutRule', {
        Name: 'one-more',
        EventBusName: 'full',
        EventPattern: '{"source":["a"]}',
      })
      const listed = await bus.call('ListRules', { EventBusName: 'full', Limit: 100 })
      assert.equal((listed.Rules as unknown[]).length, 100)
    } finally {
      await bus.close()
    }
  })

  test('5 targets per rule', async () => {
    const bus = await createTestBus()
    try {
      await bus.call('PutRule', { Name: 'r', EventPattern: '{"source":["a"]}' })
      const targets = (n: number) =>
        Array.from({ length: n }, (_, i) => ({
          Id: `t${String(i)}`,
          Arn: `arn:aws:sqs:us-east-1:111111111111:q${String(i)}`,
        }))
      await bus.call('PutTargets', { Rule: 'r', Targets: targets(5) })
      await assert.rejects(
        bus.call('PutTargets', {
          Rule: 'r',
          Targets: [{ Id: 'sixth', Arn: 'arn:aws:sqs:us-east-1:111111111111:q9' }],
        }),
        {
          name: 'LimitExceededException',
        },
      )
    } finally {
      await bus.close()
    }
  })
})

/**
 * `junction explain-access`: the server's bus-policy decision, offline, with its reason.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { explainAccess } from '../../src/cli/commands/explain-access.js'

const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'anycompany',
      Effect: 'Allow',
      Principal: '*',
      Action: 'events:PutEvents',
      Resource: 'arn:aws:events:us-east-1:222222222222:event-bus/central',
      Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-anycompany01' } },
    },
  ],
})

function run(args: Parameters<typeof explainAccess>[0]) {
  const out: string[] = []
  const err: string[] = []
  const code = explainAccess(
    args,
    (l) => out.push(l),
    (l) => err.push(l),
  )
  return { code, out, err }
}

describe('junction explain-access', () => {
  test('allowed for a member of the organization, denied for others, saying why', () => {
    const member = run({
      policy: POLICY,
      principal: '111111111111',
      organization: 'o-anycompany01',
    })
    assert.equal(member.code, 0)
    assert.deepEqual(member.out, [
      'ALLOWED: account 111111111111 may perform events:PutEvents on the bus: allowed by statement "anycompany"',
    ])
    const outsider = run({
      policy: POLICY,
      principal: '555555555555',
      resource: 'arn:aws:events:us-east-1:222222222222:event-bus/central',
    })
    assert.equal(outsider.code, 1)
    assert.deepEqual(outsider.out, [
      'DENIED: Account 555555555555 is not authorized to perform: events:PutEvents on resource: arn:aws:events:us-east-1:222222222222:event-bus/central because no resource-based policy allows the events:PutEvents action (statement "anycompany" applies, but its Condition does not hold)',
    ])
  })

  test('unusable input exits 2 with the reason', () => {
    assert.deepEqual(run({ policy: '{', principal: '111111111111' }).code, 2)
    assert.match(run({ policy: POLICY, principal: 'me' }).err[0]!, /12-digit account/)
    assert.match(
      run({ policy: POLICY, principal: '111111111111', action: 'sqs:SendMessage' }).err[0]!,
      /only events:PutEvents/,
    )
  })
})

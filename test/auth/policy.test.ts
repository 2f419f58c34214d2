/**
 * Bus policies deciding PutEvents from another account, with conditions as IAM evaluates them:
 * `aws:PrincipalOrgID` (the organization the credentials file gives the sender),
 * `aws:PrincipalAccount`, the String operators and their set and IfExists forms; Deny wins.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { allowsPutEvents } from '../../src/auth/policy.js'

const BUS = 'arn:aws:events:us-east-1:222222222222:event-bus/central'
const policy = (...statements: object[]) =>
  JSON.stringify({ Version: '2012-10-17', Statement: statements })
const allow = (extra: object = {}) => ({
  Sid: 'a',
  Effect: 'Allow',
  Principal: '*',
  Action: 'events:PutEvents',
  Resource: BUS,
  ...extra,
})
const inOrg = { account: '111111111111', organizationId: 'o-abcdefghij' }
const outside = { account: '333333333333', organizationId: 'o-zzzzzzzzzz' }
const noOrg = { account: '444444444444' }

describe('allowsPutEvents', () => {
  test('the PutPermission statement form with a PrincipalOrgID condition', () => {
    const p = policy(
      allow({ Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abcdefghij' } } }),
    )
    assert.equal(allowsPutEvents(p, inOrg), true)
    assert.equal(allowsPutEvents(p, outside), false)
    assert.equal(allowsPutEvents(p, noOrg), false, 'no organization known: the condition fails')
  })

  test('StringLike, several values, condition keys in any case', () => {
    const p = policy(
      allow({ Condition: { StringLike: { 'AWS:principalorgid': ['o-x*', 'o-abc*'] } } }),
    )
    assert.equal(allowsPutEvents(p, inOrg), true)
    assert.equal(allowsPutEvents(p, outside), false)
  })

  test('an account principal, and PrincipalAccount conditions', () => {
    const byAccount = policy(allow({ Principal: { AWS: 'arn:aws:iam::111111111111:root' } }))
    assert.equal(allowsPutEvents(byAccount, inOrg), true)
    assert.equal(allowsPutEvents(byAccount, outside), false)
    const notThat = policy(
      allow({ Condition: { StringNotEquals: { 'aws:PrincipalAccount': '333333333333' } } }),
    )
    assert.equal(allowsPutEvents(notThat, inOrg), true)
    assert.equal(allowsPutEvents(notThat, outside), false)
  })

  test('IfExists and ForAllValues hold when the key is absent; plain operators do not', () => {
    const ifExists = policy(
      allow({ Condition: { StringEqualsIfExists: { 'aws:PrincipalOrgID': 'o-abcdefghij' } } }),
    )
    assert.equal(allowsPutEvents(ifExists, noOrg), true)
    assert.equal(allowsPutEvents(ifExists, outside), false)
    const forAll = policy(
      allow({
        Condition: { 'ForAllValues:StringEquals': { 'aws:PrincipalOrgID': ['o-abcdefghij'] } },
      }),
    )
    assert.equal(allowsPutEvents(forAll, noOrg), true)
    assert.equal(allowsPutEvents(forAll, outside), false)
    const forAny = policy(
      allow({
        Condition: { 'ForAnyValue:StringEquals': { 'aws:PrincipalOrgID': ['o-abcdefghij'] } },
      }),
    )
    assert.equal(allowsPutEvents(forAny, noOrg), false)
    assert.equal(allowsPutEvents(forAny, inOrg), true)
  })

  test('a Deny that holds wins over an Allow; one whose condition fails does not', () => {
    const p = policy(allow(), {
      Sid: 'd',
      Effect: 'Deny',
      Principal: '*',
      Action: 'events:PutEvents',
      Resource: BUS,
      Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-zzzzzzzzzz' } },
    })
    assert.equal(allowsPutEvents(p, inOrg), true)
    assert.equal(allowsPutEvents(p, outside), false)
  })

  test('conditions on keys or operators Junction does not know grant nothing', () => {
    assert.equal(
      allowsPutEvents(
        policy(allow({ Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-1' } } })),
        inOrg,
      ),
      false,
    )
    assert.equal(
      allowsPutEvents(
        policy(allow({ Condition: { NumericLessThan: { 'aws:PrincipalAccount': '5' } } })),
        inOrg,
      ),
      false,
    )
  })
})

describe('decidePutEvents: why', () => {
  test('names the statement that allowed, denied, or applied without its condition holding', async () => {
    const { decidePutEvents } = await import('../../src/auth/policy.js')
    assert.deepEqual(decidePutEvents(undefined, inOrg), {
      allowed: false,
      why: 'because no resource-based policy allows the events:PutEvents action (the resource has no policy)',
    })
    const org = policy(
      allow({ Sid: 'org', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abcdefghij' } } }),
    )
    assert.deepEqual(decidePutEvents(org, inOrg), {
      allowed: true,
      why: 'allowed by statement "org"',
    })
    assert.deepEqual(decidePutEvents(org, outside), {
      allowed: false,
      why: 'because no resource-based policy allows the events:PutEvents action (statement "org" applies, but its Condition does not hold)',
    })
    const named = policy(allow({ Sid: 'b', Principal: { AWS: '999999999999' } }))
    assert.deepEqual(decidePutEvents(named, inOrg), {
      allowed: false,
      why: 'because no resource-based policy allows the events:PutEvents action (no statement names this principal and action)',
    })
    const denied = policy(allow(), {
      Sid: 'no',
      Effect: 'Deny',
      Principal: { AWS: '111111111111' },
      Action: 'events:*',
    })
    assert.deepEqual(decidePutEvents(denied, inOrg), {
      allowed: false,
      why: 'with an explicit deny in a resource-based policy (statement "no")',
    })
  })
})

// AWS::Scheduler::Schedule and ScheduleGroup provisioners against a real server, read back with
// the SDK; the IAM types, recorded only, checked for IAM's ARN and id shapes.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  GetScheduleCommand,
  GetScheduleGroupCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-scheduler'
import { TemplateError } from '../../src/deploy/model.js'
import { iamManagedPolicy } from '../../src/deploy/resources/iam-managed-policy.js'
import { iamPolicy } from '../../src/deploy/resources/iam-policy.js'
import { iamRole } from '../../src/deploy/resources/iam-role.js'
import { schedulerSchedule } from '../../src/deploy/resources/scheduler-schedule.js'
import { schedulerScheduleGroup } from '../../src/deploy/resources/scheduler-schedule-group.js'
import { sqsQueue } from '../../src/deploy/resources/sqs-queue.js'
import { ACCOUNT, harness, REGION, type Harness } from './resources-helpers.js'

let h: Harness
before(async () => {
  h = await harness()
})
after(() => h.close())

const ROLE = `arn:aws:iam::${ACCOUNT}:role/scheduler`

describe('AWS::Scheduler::ScheduleGroup and Schedule', () => {
  test('a group with tags, a schedule in it, an update, a rename and deletes', async () => {
    const gctx = h.ctx('Group')
    const gprops = { Name: 'reports', Tags: [{ Key: 'team', Value: 'c' }] }
    const group = await schedulerScheduleGroup.create(gctx, gprops)
    assert.equal(group.physicalId, 'reports')
    assert.equal(
      group.attributes.Arn,
      `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/reports`,
    )
    assert.equal(group.attributes.State, 'ACTIVE')
    const tags = async () =>
      (
        await h.clients.scheduler.send(
          new ListTagsForResourceCommand({ ResourceArn: String(group.attributes.Arn) }),
        )
      ).Tags
    assert.deepEqual(await tags(), [{ Key: 'team', Value: 'c' }])
    await schedulerScheduleGroup.update(gctx, group, gprops, { Name: 'reports' })
    assert.deepEqual(await tags(), [])

    const queue = await sqsQueue.create(h.ctx('Out'), { QueueName: 'schedule-out' })
    const ctx = h.ctx('Every')
    const props = {
      GroupName: 'reports',
      ScheduleExpression: 'rate(1 minute)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: '5' },
      StartDate: '2030-01-01T00:00:00Z',
      EndDate: '2031-01-01T00:00:00Z',
      State: 'ENABLED',
      Description: 'the report',
      Target: {
        Arn: queue.attributes.Arn,
        RoleArn: ROLE,
        Input: { report: 'daily' },
        RetryPolicy: { MaximumRetryAttempts: '3', MaximumEventAgeInSeconds: 600 },
        DeadLetterConfig: { Arn: queue.attributes.Arn },
      },
    }
    const s = await schedulerSchedule.create(ctx, props)
    assert.match(s.physicalId, /^res-test-Every-SFX\d{10}$/)
    assert.equal(
      s.attributes.Arn,
      `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/reports/${s.physicalId}`,
    )
    const read = () =>
      h.clients.scheduler.send(new GetScheduleCommand({ Name: s.physicalId, GroupName: 'reports' }))
    let got = await read()
    assert.equal(got.ScheduleExpression, 'rate(1 minute)')
    assert.equal(got.ScheduleExpressionTimezone, 'Europe/Paris')
    assert.deepEqual(got.FlexibleTimeWindow, { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 5 })
    assert.equal(got.StartDate?.toISOString(), '2030-01-01T00:00:00.000Z')
    assert.equal(got.EndDate?.toISOString(), '2031-01-01T00:00:00.000Z')
    assert.equal(got.Description, 'the report')
    assert.equal(got.Target!.Input, '{"report":"daily"}')
    assert.deepEqual(got.Target!.RetryPolicy, {
      MaximumRetryAttempts: 3,
      MaximumEventAgeInSeconds: 600,
    })
    assert.equal(got.Target!.DeadLetterConfig?.Arn, queue.attributes.Arn)

    const next = {
      GroupName: 'reports',
      ScheduleExpression: 'cron(0 6 * * ? *)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'DISABLED',
      Target: { Arn: queue.attributes.Arn, RoleArn: ROLE },
    }
    const updated = await schedulerSchedule.update(ctx, s, props, next)
    assert.equal(updated.physicalId, s.physicalId)
    got = await read()
    assert.equal(got.ScheduleExpression, 'cron(0 6 * * ? *)')
    assert.equal(got.State, 'DISABLED')
    assert.equal(got.Description, undefined)
    assert.equal(got.StartDate, undefined)

    // A name moves it: the new one exists, the old one is gone.
    const renamed = await schedulerSchedule.update(ctx, updated, next, { ...next, Name: 'named' })
    assert.equal(renamed.physicalId, 'named')
    await assert.rejects(read(), { name: 'ResourceNotFoundException' })
    await schedulerSchedule.delete(ctx, renamed, { ...next, Name: 'named' })
    await assert.rejects(
      h.clients.scheduler.send(new GetScheduleCommand({ Name: 'named', GroupName: 'reports' })),
      { name: 'ResourceNotFoundException' },
    )
    await schedulerSchedule.delete(ctx, renamed, { ...next, Name: 'named' })

    await schedulerScheduleGroup.delete(gctx, group, gprops)
    await assert.rejects(
      h.clients.scheduler.send(new GetScheduleGroupCommand({ Name: 'reports' })),
      {
        name: 'ResourceNotFoundException',
      },
    )
  })

  test('missing Target or a bad date is a template error; a bad expression is the server’s', async () => {
    const base = { ScheduleExpression: 'rate(1 hour)', FlexibleTimeWindow: { Mode: 'OFF' } }
    await assert.rejects(schedulerSchedule.create(h.ctx('NoTarget'), base), (e: Error) => {
      assert.ok(e instanceof TemplateError)
      assert.equal(
        e.message,
        'line 12: NoTarget (AWS::Scheduler::Schedule): the property Target is required',
      )
      return true
    })
    const target = { Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:x`, RoleArn: ROLE }
    await assert.rejects(
      schedulerSchedule.create(h.ctx('BadDate'), { ...base, Target: target, StartDate: 'soon' }),
      /StartDate is not a date: soon/,
    )
    await assert.rejects(
      schedulerSchedule.create(h.ctx('BadRate'), {
        ...base,
        ScheduleExpression: 'rate(often)',
        Target: target,
      }),
      { name: 'ValidationException' },
    )
  })
})

describe('AWS::IAM::Role, Policy and ManagedPolicy (recorded)', () => {
  const trust = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ],
  }

  test('a role: Ref the name, Arn with its path, RoleId AROA and 17 characters, stable', async () => {
    const ctx = h.ctx('FnRole')
    const props = {
      RoleName: 'validator-role',
      Path: '/service/',
      AssumeRolePolicyDocument: trust,
      ManagedPolicyArns: ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
      Policies: [{ PolicyName: 'put', PolicyDocument: { Version: '2012-10-17', Statement: [] } }],
      MaxSessionDuration: 3600,
      Description: 'runs the validator',
      Tags: [{ Key: 'a', Value: 'b' }],
      PermissionsBoundary: 'arn:aws:iam::aws:policy/PowerUserAccess',
    }
    const role = await iamRole.create(ctx, props)
    assert.equal(role.physicalId, 'validator-role')
    assert.equal(role.attributes.Arn, `arn:aws:iam::${ACCOUNT}:role/service/validator-role`)
    assert.match(String(role.attributes.RoleId), /^AROA[A-Z0-9]{17}$/)
    const again = await iamRole.update(ctx, role, props, { ...props, Description: 'changed' })
    assert.equal(again.attributes.RoleId, role.attributes.RoleId)
    const other = await iamRole.create(h.ctx('Other'), { AssumeRolePolicyDocument: trust })
    assert.match(other.physicalId, /^res-test-Other-SFX\d{10}$/)
    assert.equal(other.attributes.Arn, `arn:aws:iam::${ACCOUNT}:role/${other.physicalId}`)
    assert.notEqual(other.attributes.RoleId, role.attributes.RoleId)
    // A generated name stays on update.
    const kept = await iamRole.update(
      h.ctx('Other'),
      other,
      { AssumeRolePolicyDocument: trust },
      {
        AssumeRolePolicyDocument: trust,
        Description: 'x',
      },
    )
    assert.equal(kept.physicalId, other.physicalId)
    await iamRole.delete(ctx, role, props)
    await assert.rejects(
      iamRole.create(ctx, { RoleName: 'x' }),
      /AssumeRolePolicyDocument is required/,
    )
    await assert.rejects(
      iamRole.create(ctx, { AssumeRolePolicyDocument: trust, Path: 'service' }),
      /Path must begin and end with \//,
    )
  })

  test('an inline policy and a managed policy', async () => {
    const doc = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: '*' }],
    }
    const inline = await iamPolicy.create(h.ctx('Put'), {
      PolicyName: 'put',
      PolicyDocument: doc,
      Roles: ['r'],
    })
    assert.equal(inline.attributes.Id, inline.physicalId)
    await assert.rejects(
      iamPolicy.create(h.ctx('Put'), { PolicyDocument: doc }),
      /PolicyName is required/,
    )
    const managed = await iamManagedPolicy.create(h.ctx('Managed'), {
      ManagedPolicyName: 'publish',
      PolicyDocument: doc,
      Path: '/app/',
    })
    assert.equal(managed.physicalId, `arn:aws:iam::${ACCOUNT}:policy/app/publish`)
    assert.equal(managed.attributes.PolicyArn, managed.physicalId)
    assert.match(String(managed.attributes.PolicyId), /^ANPA[A-Z0-9]{17}$/)
  })
})

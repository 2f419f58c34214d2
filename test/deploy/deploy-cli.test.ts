/**
 * `junction deploy` and `junction stacks` as a user runs them: the real CLI (through tsx)
 * against a real server, the forwarding rule deployed with its parameters, a failing
 * deploy rolled back (exit 1, the failing resource's line named), a template error (exit 2),
 * the stacks table and `--delete`.
 */
import { DescribeRuleCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import { startServer, type RunningServer } from '../../src/bus.js'
import { DEFAULTS } from '../../src/config.js'
import { createClients, destroyClients } from '../../src/deploy/clients.js'
import type { Clients } from '../../src/deploy/model.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
let server: RunningServer
let clients: Clients
let dir: string

type Run = { code: number; stdout: string; stderr: string }

function junction(...args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args],
      {
        cwd: root,
        timeout: 60_000,
        env: {
          ...process.env,
          AWS_ENDPOINT_URL: server.url,
          AWS_ACCESS_KEY_ID: '111111111111',
          AWS_SECRET_ACCESS_KEY: 'unused',
          AWS_REGION: 'eu-west-1',
        },
      },
      (err, stdout, stderr) => {
        done({ code: err ? Number(err.code) : 0, stdout, stderr })
      },
    )
  })
}

const FORWARDING = `AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  CENTRAL_ACCOUNT_ID:
    Type: String
  CENTRAL_ACCOUNT_REGION:
    Type: String
    Default: us-east-1
Resources:
  CentralForwardingRule:
      Type: AWS::Events::Rule
      Properties:
        Description: イベントを中心的なアカウントに送信するためのルール
        EventPattern:
          source:
            - cwi.servicea
        Targets:
          - Arn: !Sub arn:aws:events:\${CENTRAL_ACCOUNT_REGION}:\${CENTRAL_ACCOUNT_ID}:event-bus/default
            Id: CentralTarget
            RoleArn: arn:aws:iam::111111111111:role/forward-to-central
Outputs:
  RuleArn:
    Value: !GetAtt CentralForwardingRule.Arn
`

before(async () => {
  server = await startServer({ ...DEFAULTS, port: 0, store: 'memory', logLevel: 'silent' })
  clients = createClients({
    endpoint: server.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: '111111111111', secretAccessKey: 'unused' },
  })
  dir = mkdtempSync(join(tmpdir(), 'junction-deploy-cli-'))
  writeFileSync(join(dir, 'service-a.yaml'), FORWARDING)
})
after(async () => {
  destroyClients(clients)
  await server.close()
})

describe('junction deploy', () => {
  let ruleName = ''

  test("deploys the issue's forwarding rule with its parameters and prints the outputs", async () => {
    const r = await junction(
      'deploy',
      join(dir, 'service-a.yaml'),
      '--parameter-overrides',
      'CENTRAL_ACCOUNT_ID=222222222222',
    )
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^CREATE_IN_PROGRESS AWS::Events::Rule CentralForwardingRule$/m)
    const m =
      /^CREATE_COMPLETE AWS::Events::Rule CentralForwardingRule (service-a-CentralForwardingRule-[A-Z0-9]{13})$/m.exec(
        r.stdout,
      )
    assert.ok(m, r.stdout)
    ruleName = m[1]!
    const rule = await clients.events.send(new DescribeRuleCommand({ Name: ruleName }))
    assert.equal(rule.Description, 'イベントを中心的なアカウントに送信するためのルール')
    assert.match(r.stdout, new RegExp(`^  RuleArn = ${rule.Arn!.replaceAll('/', '\\/')}$`, 'm'))
    const targets = await clients.events.send(new ListTargetsByRuleCommand({ Rule: ruleName }))
    assert.equal(
      targets.Targets?.[0]?.Arn,
      'arn:aws:events:us-east-1:222222222222:event-bus/default',
    )
  })

  test('junction stacks lists it as a table and as JSON', async () => {
    const table = await junction('stacks')
    assert.equal(table.code, 0, table.stderr)
    const lines = table.stdout.trim().split('\n')
    assert.match(lines[0]!, /^NAME\s+STATUS\s+UPDATED\s+RESOURCES$/)
    assert.match(lines[1]!, /^service-a\s+CREATE_COMPLETE\s+\d{4}-\d\d-\d\dT\S+\s+1$/)
    const json = await junction('stacks', '--output', 'json')
    const parsed = JSON.parse(json.stdout) as { stacks: { name: string; parameters: object }[] }
    assert.deepEqual(parsed.stacks[0]?.parameters, {
      CENTRAL_ACCOUNT_ID: '222222222222',
      CENTRAL_ACCOUNT_REGION: 'us-east-1',
    })
  })

  test('a deploy that fails is rolled back: exit 1, naming the resource and its line', async () => {
    writeFileSync(
      join(dir, 'broken.yaml'),
      `Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties:
      Name: broken-bus
  Nightly:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      ScheduleExpression: rate(sometimes)
`,
    )
    const r = await junction('deploy', join(dir, 'broken.yaml'))
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stderr, /Nightly \(AWS::Events::Rule, line 6\): ValidationException/)
    assert.match(r.stdout, /^DELETE_COMPLETE AWS::Events::EventBus Bus broken-bus$/m)
    const list = await junction('stacks', '--output', 'json')
    assert.deepEqual(
      (JSON.parse(list.stdout) as { stacks: { name: string }[] }).stacks.map((s) => s.name),
      ['service-a'],
    )
  })

  test('an unsupported resource type is a template error: exit 2, nothing created', async () => {
    writeFileSync(
      join(dir, 'topic.yaml'),
      `Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties:
      Name: never-made
  Topic:
    Type: AWS::SNS::Topic
  Late:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !GetAtt Bus.Name
      EventPattern: { source: [late] }
      Tags: [{ Key: a, Value: b }]
`,
    )
    const r = await junction('deploy', join(dir, 'topic.yaml'), '--stack-name', 'topics')
    assert.equal(r.code, 2, r.stdout + r.stderr)
    assert.match(
      r.stderr,
      /line 6: resource Topic has type AWS::SNS::Topic, which Junction does not support/,
    )
    assert.match(
      r.stderr,
      /line 8: resource Late \(AWS::Events::Rule\) has property Tags, which Junction does not support\. Supported properties: Name, Description, EventBusName,/,
    )
    assert.equal(r.stdout, '')
  })

  test('--delete removes the stack and its resources', async () => {
    const r = await junction('deploy', join(dir, 'service-a.yaml'), '--delete')
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^DELETE_COMPLETE AWS::Events::Rule CentralForwardingRule/m)
    await assert.rejects(
      clients.events.send(new DescribeRuleCommand({ Name: ruleName })),
      (e: Error) => e.name === 'ResourceNotFoundException',
    )
    const list = await junction('stacks')
    assert.equal(list.stdout.trim(), 'NAME  STATUS  UPDATED  RESOURCES')
    const again = await junction('deploy', join(dir, 'service-a.yaml'), '--delete')
    assert.equal(again.code, 2)
    assert.match(again.stderr, /Stack with id service-a does not exist/)
  })
})

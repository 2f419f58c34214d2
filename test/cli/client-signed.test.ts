/**
 * The client commands (`tail`, `query`, `replay`, `clock`, `logs`) against a real
 * `junction serve --auth sigv4` process, run as a user runs them (the CLI, in a child process):
 * signed with the credentials in the environment or a `--profile` of a shared credentials file,
 * the server found through `AWS_ENDPOINT_URL` or `--endpoint-url`, the region from the profile.
 * A wrong secret and an unknown profile are refused with the words of the server and of the
 * AWS CLI.
 */
import {
  CreateArchiveCommand,
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
} from '@aws-sdk/client-eventbridge'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import { startServerProcess, type ServerProcess } from '../helpers/server.js'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const MAIN = join(repoRoot, 'src/cli/main.ts')

const TEAM_A = { key: 'AKIDTEAMA0000000001', secret: 'secret-of-team-a-0123456789' }
const TEAM_B = { key: 'AKIDTEAMB0000000002', secret: 'secret-of-team-b-9876543210' }
const MISMATCH =
  'InvalidSignatureException: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'

let server: ServerProcess
let dir: string
/** The environment of every command: no AWS settings but the client files. */
let base: NodeJS.ProcessEnv

type Run = { code: number | null; stdout: string; stderr: string }

function junction(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, ...args],
      { cwd: repoRoot, env: { ...base, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        done({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr })
      },
    )
  })
}

function sdk(who: { key: string; secret: string }, region = 'us-east-1'): EventBridgeClient {
  return new EventBridgeClient({
    endpoint: server.url,
    region,
    credentials: { accessKeyId: who.key, secretAccessKey: who.secret },
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'junction-client-'))
  const serverFile = join(dir, 'server-credentials')
  writeFileSync(
    serverFile,
    [
      '[team-a]',
      `aws_access_key_id = ${TEAM_A.key}`,
      `aws_secret_access_key = ${TEAM_A.secret}`,
      'aws_account_id = 111111111111',
      '[team-b]',
      `aws_access_key_id = ${TEAM_B.key}`,
      `aws_secret_access_key = ${TEAM_B.secret}`,
      'aws_account_id = 222222222222',
      '',
    ].join('\n'),
  )
  const credentials = join(dir, 'credentials')
  writeFileSync(
    credentials,
    [
      '[team-a]',
      `aws_access_key_id = ${TEAM_A.key}`,
      `aws_secret_access_key = ${TEAM_A.secret}`,
      '[team-b]',
      `aws_access_key_id = ${TEAM_B.key}`,
      `aws_secret_access_key = ${TEAM_B.secret}`,
      '[wrong-secret]',
      `aws_access_key_id = ${TEAM_A.key}`,
      'aws_secret_access_key = not-the-secret',
      '',
    ].join('\n'),
  )
  const config = join(dir, 'config')
  writeFileSync(config, ['[profile team-b]', 'region = eu-west-1', ''].join('\n'))
  base = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) base[k] = v
  Object.assign(base, {
    HOME: dir,
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_CONFIG_FILE: config,
    AWS_EC2_METADATA_DISABLED: 'true',
  })
  server = await startServerProcess({
    args: [
      '--auth',
      'sigv4',
      '--credentials',
      serverFile,
      '--clock',
      'manual',
      '--allow-manual-clock',
    ],
  })
})

after(async () => {
  await server.stop()
})

describe('client commands against a server checking signatures', () => {
  test('--version prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      version: string
    }
    const r = await junction(['--version'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), version)
  })

  test('tail, signed with the credentials in the environment, found through AWS_ENDPOINT_URL', async () => {
    const a = sdk(TEAM_A)
    await a.send(new CreateEventBusCommand({ Name: 'orders' }))
    // A pattern with spaces: the query string is sent as it was signed (%20, not +).
    const pattern = '{"source": ["shop"], "detail-type": ["placed"]}'
    const args = ['--import', 'tsx', MAIN, 'tail', '--bus', 'orders', '--pattern', pattern]
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: {
        ...base,
        AWS_ENDPOINT_URL: server.url,
        AWS_ACCESS_KEY_ID: TEAM_A.key,
        AWS_SECRET_ACCESS_KEY: TEAM_A.secret,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (err += c.toString()))
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    try {
      // The stream may open after the first events: put until one is printed.
      for (let n = 0; n < 150 && !out.includes('\n'); n++) {
        await a.send(
          new PutEventsCommand({
            Entries: [
              {
                Source: 'shop',
                DetailType: 'placed',
                Detail: `{"n":${n}}`,
                EventBusName: 'orders',
              },
            ],
          }),
        )
        await sleep(100)
      }
      assert.ok(out.includes('\n'), `tail printed nothing; stderr: ${err}`)
      const first = JSON.parse(out.split('\n')[0]!) as {
        event: { source: string; account: string; detail: { n: number } }
      }
      assert.equal(first.event.source, 'shop')
      assert.equal(first.event.account, '111111111111')
      assert.equal(typeof first.event.detail.n, 'number')
    } finally {
      child.kill('SIGTERM')
      await exited
    }
  })

  test('tail with a wrong secret is refused with the server message', async () => {
    const r = await junction([
      'tail',
      '--bus',
      'orders',
      '--profile',
      'wrong-secret',
      '--endpoint-url',
      server.url,
    ])
    assert.equal(r.code, 2)
    assert.equal(r.stderr.trim(), MISMATCH)
  })

  test('another account does not see the bus: tail acts as the profile', async () => {
    const r = await junction([
      'tail',
      '--bus',
      'orders',
      '--profile',
      'team-b',
      '--region',
      'us-east-1',
      '--endpoint-url',
      server.url,
    ])
    assert.equal(r.code, 2)
    assert.equal(r.stderr.trim(), 'ResourceNotFoundException: Event bus orders does not exist.')
  })

  test('query and replay with --profile; the region is the profile region', async () => {
    // team-b's archive lives in eu-west-1, the region its profile names.
    const b = sdk(TEAM_B, 'eu-west-1')
    const bus = await b.send(new CreateEventBusCommand({ Name: 'widgets' }))
    await b.send(
      new CreateArchiveCommand({ ArchiveName: 'all-widgets', EventSourceArn: bus.EventBusArn! }),
    )
    await b.send(
      new PutEventsCommand({
        Entries: ['w1', 'w2', 'w3'].map((id) => ({
          Source: 'factory',
          DetailType: 'NEW_WIDGET',
          Detail: JSON.stringify({ widget_id: id }),
          EventBusName: 'widgets',
        })),
      }),
    )
    const sql =
      "SELECT json_extract(detail, '$.widget_id') AS w, account, region FROM events ORDER BY w"
    const args = ['query', sql, '--archive', 'all-widgets', '--format', 'json']
    let rows: unknown[][] = []
    for (let i = 0; i < 50 && rows.length < 3; i++) {
      const r = await junction([...args, '--profile', 'team-b', '--endpoint-url', server.url])
      assert.equal(r.code, 0, r.stderr)
      rows = (JSON.parse(r.stdout) as { rows: unknown[][] }).rows
      if (rows.length < 3) await sleep(100)
    }
    assert.deepEqual(rows, [
      ['w1', '222222222222', 'eu-west-1'],
      ['w2', '222222222222', 'eu-west-1'],
      ['w3', '222222222222', 'eu-west-1'],
    ])

    const elsewhere = await junction([
      ...args,
      '--profile',
      'team-b',
      '--region',
      'us-east-1',
      '--endpoint-url',
      server.url,
    ])
    assert.equal(elsewhere.code, 2)
    assert.equal(
      elsewhere.stderr.trim(),
      'ResourceNotFoundException: Archive all-widgets does not exist.',
    )

    const wrong = await junction([
      ...args,
      '--profile',
      'wrong-secret',
      '--endpoint-url',
      server.url,
    ])
    assert.equal(wrong.code, 2)
    assert.equal(wrong.stderr.trim(), MISMATCH)

    const replayed = await junction(
      ['replay', '--archive', 'all-widgets', '--name', 'again', '--wait', '--profile', 'team-b'],
      { AWS_ENDPOINT_URL: server.url },
    )
    assert.equal(replayed.code, 0, replayed.stderr)
    const final = JSON.parse(replayed.stdout.trim().split('\n').at(-1)!) as {
      State: string
      ReplayArn: string
    }
    assert.equal(final.State, 'COMPLETED')
    assert.equal(final.ReplayArn, 'arn:aws:events:eu-west-1:222222222222:replay/again')
  })

  test('clock now and advance, signed; a wrong secret is refused', async () => {
    const env = { AWS_ENDPOINT_URL: server.url }
    const now = await junction(['clock', 'now', '--profile', 'team-a'], env)
    assert.equal(now.code, 0, now.stderr)
    assert.match(now.stdout, /\(manual clock\)/)
    const before = Date.parse(now.stdout.split(' ')[0]!)
    const moved = await junction(['clock', 'advance', '90m', '--profile', 'team-a'], env)
    assert.equal(moved.code, 0, moved.stderr)
    assert.equal(Date.parse(moved.stdout.split(' ')[0]!) - before, 90 * 60_000)

    const wrong = await junction(['clock', 'advance', '1h', '--profile', 'wrong-secret'], env)
    assert.equal(wrong.code, 2)
    assert.equal(wrong.stderr.trim(), MISMATCH)
    const after = await junction(['clock', 'now', '--profile', 'team-a'], env)
    assert.equal(Date.parse(after.stdout.split(' ')[0]!) - before, 90 * 60_000, 'not moved')
  })

  test('logs is signed for Lambda: an unknown function, or a wrong secret', async () => {
    const env = { AWS_ENDPOINT_URL: server.url }
    const missing = await junction(['logs', 'nobody', '--profile', 'team-a'], env)
    assert.equal(missing.code, 2)
    assert.match(
      missing.stderr,
      /^ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:111111111111:function:nobody/,
    )
    const wrong = await junction(['logs', 'nobody', '--profile', 'wrong-secret'], env)
    assert.equal(wrong.code, 2)
    assert.equal(wrong.stderr.trim(), MISMATCH)
  })

  test('a profile in neither file is an error; --account is refused by this server', async () => {
    const env = { AWS_ENDPOINT_URL: server.url }
    const unknown = await junction(['clock', 'now', '--profile', 'nobody'], env)
    assert.equal(unknown.code, 2)
    assert.equal(unknown.stderr.trim(), 'The config profile (nobody) could not be found')
    const named = await junction(['tail', '--bus', 'orders', '--account', '111111111111'], env)
    assert.equal(named.code, 2)
    assert.equal(
      named.stderr.trim(),
      "IncompleteSignatureException: Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    )
  })

  test('no credentials at all: the request goes unsigned and is refused', async () => {
    const r = await junction(['clock', 'now'], { AWS_ENDPOINT_URL: server.url })
    assert.equal(r.code, 2)
    assert.equal(
      r.stderr.trim(),
      'MissingAuthenticationTokenException: Missing Authentication Token',
    )
  })
})

describe('client commands against a server with --auth off', () => {
  let open: ServerProcess
  before(async () => {
    open = await startServerProcess({ args: ['--store', 'memory'] })
  })
  after(async () => {
    await open.stop()
  })

  // An unknown function's error names its ARN: the account and region the server acted in.
  const notFound = (account: string, region: string) =>
    `ResourceNotFoundException: Function not found: arn:aws:lambda:${region}:${account}:function:nobody`

  test('the account is the signing key, the region the profile one; --account overrides', async () => {
    const env = { AWS_ENDPOINT_URL: open.url }
    const signed = await junction(['logs', 'nobody'], {
      ...env,
      AWS_ACCESS_KEY_ID: '333333333333',
      AWS_SECRET_ACCESS_KEY: 'anything',
      AWS_REGION: 'ap-south-1',
    })
    assert.equal(signed.code, 2)
    assert.equal(signed.stderr.trim(), notFound('333333333333', 'ap-south-1'))

    const keyOnly = await junction(['logs', 'nobody'], {
      ...env,
      AWS_ACCESS_KEY_ID: '444444444444',
    })
    assert.equal(keyOnly.stderr.trim(), notFound('444444444444', 'us-east-1'))

    const profile = await junction(['logs', 'nobody', '--profile', 'team-b'], env)
    assert.equal(profile.stderr.trim(), notFound('000000000000', 'eu-west-1'))

    const account = await junction(
      ['logs', 'nobody', '--account', '555555555555', '--profile', 'team-b'],
      env,
    )
    assert.equal(account.stderr.trim(), notFound('555555555555', 'eu-west-1'))

    const unsigned = await junction(['logs', 'nobody'], env)
    assert.equal(unsigned.stderr.trim(), notFound('000000000000', 'us-east-1'))
  })
})

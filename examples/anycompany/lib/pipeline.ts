/**
 * @module
 * The AnyCompany pipeline brought up on one Junction: the server (signed requests only, manual
 * clock), every account's template deployed with that account's credentials, service B's web
 * service, and the clients each account acts through. `story.ts` runs the widgets through it.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startServiceB, type ServiceB } from '../service-b/service.js'
import {
  ACCOUNTS,
  clientEnv,
  REGION,
  writeCredentials,
  type AccountName,
  type Keys,
} from './accounts.js'
import { mustRun, startServer, type Server } from './junction.js'

export const EXAMPLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..')

export type Pipeline = {
  dir: string
  credentialsFile: string
  logFile: string
  reportFile: string
  server: Server
  keys: Record<AccountName, Keys>
  /** The environment of a client acting as the account (endpoint, keys, region). */
  env(account: AccountName): NodeJS.ProcessEnv
  events(account: AccountName): EventBridgeClient
  sqs(account: AccountName): SQSClient
  invalidQueueUrl: string
  serviceB: ServiceB
  /** `junction clock advance DURATION`, signed as service C. */
  advanceClock(duration: string): Promise<void>
  stop(): Promise<void>
}

export type PipelineOptions = {
  /** Lines of progress (deploy output, …). */
  say?: (line: string) => void
  /** Port of B's page; 0 (default) for any free one. */
  pagePort?: number
}

/** `junction deploy TEMPLATE --stack-name … --parameter-overrides K=V …`, as the account of `env`. */
const deploy = (
  account: AccountName,
  template: string,
  parameters: Record<string, string>,
  env: NodeJS.ProcessEnv,
) =>
  mustRun(
    [
      'deploy',
      template,
      '--stack-name',
      ACCOUNTS[account].stack,
      ...(Object.keys(parameters).length === 0
        ? []
        : ['--parameter-overrides', ...Object.entries(parameters).map(([k, v]) => `${k}=${v}`)]),
    ],
    env,
  )

export async function startPipeline(o: PipelineOptions = {}): Promise<Pipeline> {
  const say = o.say ?? (() => undefined)
  const dir = mkdtempSync(join(tmpdir(), 'anycompany-'))
  const dataDir = join(dir, 'data')
  mkdirSync(dataDir)
  const credentialsFile = join(dir, 'credentials')
  const logFile = join(dir, 'junction.log')
  const reportFile = join(dir, 'report.json')
  const keys = writeCredentials(credentialsFile)
  const server = await startServer({
    dataDir,
    credentials: credentialsFile,
    logFile,
  })
  const stops: (() => Promise<void>)[] = [() => server.stop()]
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined)
  }
  try {
    say(`Junction is up at ${server.url} (--auth sigv4, manual clock); data and logs in ${dir}`)
    const env = (account: AccountName) => clientEnv(server.url, keys[account])
    const clientConfig = (account: AccountName) => ({
      endpoint: server.url,
      region: REGION,
      credentials: keys[account],
    })

    // Every account deploys its own template with its own credentials. B and C allow central,
    // central allows A; no event flows until A publishes, so the order does not matter.
    const parameters: Record<AccountName, Record<string, string>> = {
      a: { CENTRAL_ACCOUNT_ID: ACCOUNTS.central.id, CENTRAL_ACCOUNT_REGION: REGION },
      central: {},
      b: {},
      c: { REPORT_FILE: reportFile },
    }
    const names = Object.keys(ACCOUNTS) as AccountName[]
    const outputs = await Promise.all(
      names.map((n) => deploy(n, join(EXAMPLE_DIR, ACCOUNTS[n].template), parameters[n], env(n))),
    )
    names.forEach((n, i) => {
      say(`deployed ${ACCOUNTS[n].template} as ${ACCOUNTS[n].role} (${ACCOUNTS[n].id}):`)
      // What `junction deploy` printed, but its *_IN_PROGRESS lines: each is followed by its end.
      for (const line of outputs[i]!.trimEnd().split('\n'))
        if (!/^\S+_IN_PROGRESS /.test(line)) say(`  ${line}`)
    })

    const events = (account: AccountName) => new EventBridgeClient(clientConfig(account))
    const sqs = (account: AccountName) => new SQSClient(clientConfig(account))
    const queueUrl = async (account: AccountName, name: string) =>
      (await sqs(account).send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!
    const serviceB = await startServiceB({
      sqs: sqs('b'),
      queueUrl: await queueUrl('b', 'service-b-widgets'),
      port: o.pagePort ?? 0,
      onError: (e) =>
        say(`service B: receive failed: ${e instanceof Error ? e.message : String(e)}`),
    })
    stops.push(() => serviceB.stop())
    return {
      dir,
      credentialsFile,
      logFile,
      reportFile,
      server,
      keys,
      env,
      events,
      sqs,
      invalidQueueUrl: await queueUrl('central', 'invalid-widgets'),
      serviceB,
      async advanceClock(duration) {
        await mustRun(['clock', 'advance', duration], env('c'))
      },
      stop,
    }
  } catch (e) {
    await stop()
    throw e
  }
}

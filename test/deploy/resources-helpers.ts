// A real server in this process and ProvisionContexts whose clients (the AWS SDK v3) point at
// it, for the provisioner tests.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import { LambdaClient } from '@aws-sdk/client-lambda'
import { SchedulerClient } from '@aws-sdk/client-scheduler'
import { SQSClient } from '@aws-sdk/client-sqs'
import { startServer, type RunningServer } from '../../src/bus.js'
import { DEFAULTS } from '../../src/config.js'
import type { Clients, ProvisionContext } from '../../src/deploy/model.js'

export const ACCOUNT = '123456789012'
export const REGION = 'us-east-1'
export const STACK = 'res-test'

export type Harness = {
  server: RunningServer
  clients: Clients
  baseDir: string
  ctx(logicalId: string): ProvisionContext
  close(): Promise<void>
}

export async function harness(): Promise<Harness> {
  const server = await startServer({ ...DEFAULTS, port: 0, store: 'memory', logLevel: 'silent' })
  const config = {
    endpoint: server.url,
    region: REGION,
    credentials: { accessKeyId: ACCOUNT, secretAccessKey: 'secret' },
  }
  const clients: Clients = {
    events: new EventBridgeClient(config),
    sqs: new SQSClient(config),
    lambda: new LambdaClient(config),
    scheduler: new SchedulerClient(config),
  }
  const baseDir = mkdtempSync(join(tmpdir(), 'junction-deploy-res-'))
  let n = 0
  return {
    server,
    clients,
    baseDir,
    ctx(logicalId) {
      // A stand-in for the orchestrator's names: stack, logical id and a suffix, cut to fit.
      const suffix = `SFX${String(++n).padStart(10, '0')}`
      return {
        clients,
        stackName: STACK,
        logicalId,
        account: ACCOUNT,
        region: REGION,
        baseDir,
        line: 12,
        generatedName: (max) => {
          const head = `${STACK}-${logicalId}`.slice(0, max - suffix.length - 1)
          return `${head}-${suffix}`
        },
      }
    },
    async close() {
      for (const c of Object.values(clients)) (c as { destroy(): void }).destroy()
      await server.close()
    },
  }
}

/**
 * @module
 * The AWS SDK v3 clients `junction deploy` provisions with, all pointed at one server and
 * signed with the credentials of the environment (the SDK's default chain: environment
 * variables, `AWS_PROFILE` in the shared files, …). Without any credentials (a server run with
 * `--auth off` needs none) a placeholder key is used and the server's default account applies.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import { LambdaClient } from '@aws-sdk/client-lambda'
import { SchedulerClient } from '@aws-sdk/client-scheduler'
import { SQSClient } from '@aws-sdk/client-sqs'
import type { AwsCredentialIdentity } from '@aws-sdk/types'
import type { Clients } from './model.js'

/** Where the server is and as whom to call it. */
export type Connection = {
  endpoint: string
  region: string
  credentials: AwsCredentialIdentity
}

/** A key the server reads as "no particular account" (auth off: its default account applies). */
export const ANONYMOUS: AwsCredentialIdentity = {
  accessKeyId: 'junction-anonymous',
  secretAccessKey: 'junction-anonymous',
}

export function createClients(c: Connection): Clients {
  // The SDK warns on every run that it will need Node 22; Junction supports Node 20, and the
  // warning would bury the deploy's own lines.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const config = {
    endpoint: c.endpoint,
    region: c.region,
    credentials: c.credentials,
    maxAttempts: 2,
  }
  return {
    events: new EventBridgeClient(config),
    sqs: new SQSClient(config),
    lambda: new LambdaClient(config),
    scheduler: new SchedulerClient(config),
  }
}

export function destroyClients(clients: Clients): void {
  clients.events.destroy()
  clients.sqs.destroy()
  clients.lambda.destroy()
  clients.scheduler.destroy()
}

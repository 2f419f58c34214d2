/**
 * @module
 * Who deploys, and where: the server (as the AWS CLI finds an endpoint), the region, the
 * credentials of the environment (`--profile` selects a profile of the shared files) and the
 * account they act as: a 12-digit or AWS-format access key carries it; otherwise the server
 * says (`GET /junction/whoami`).
 */
import { accountOfAccessKey } from '../auth/caller.js'
import { endpointOf } from '../cli/commands/client.js'
import { createClients, environmentCredentials, regionOf } from './clients.js'
import type { Clients } from './model.js'
import { StackClient } from './stack-client.js'

export type SessionFlags = { endpointUrl?: string; region?: string; profile?: string }

export type Session = {
  endpoint: string
  region: string
  account: string
  clients: Clients
  stacks: StackClient
}

export async function openSession(flags: SessionFlags): Promise<Session> {
  if (flags.profile !== undefined) process.env.AWS_PROFILE = flags.profile
  const endpoint = endpointOf(flags)
  const region = regionOf(flags.region)
  const { credentials } = await environmentCredentials()
  const stacks = new StackClient(endpoint, region, credentials)
  const account = accountOfAccessKey(credentials.accessKeyId) ?? (await stacks.whoami()).Account
  return {
    endpoint,
    region,
    account,
    clients: createClients({ endpoint, region, credentials }),
    stacks,
  }
}

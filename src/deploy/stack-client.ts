/**
 * @module
 * The deploy command's side of `/junction/stacks` and `/junction/whoami`: JSON over HTTP,
 * signed with SigV4 (service `events`) by the same credentials as the SDK clients, so that a
 * server run with `--auth sigv4` knows the account (and a caller sees its own stacks only).
 */
import type { AwsCredentialIdentity } from '@aws-sdk/types'
import { signedFetch } from '../cli/commands/client.js'
import type { StackDraft, StackRecord } from './stack-record.js'

/** A refusal of the stacks API: `code` is its `__type`. */
export class StackApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(`${code}: ${message}`)
    this.name = 'StackApiError'
  }
}

export type Whoami = { Account: string; Arn: string; UserId: string }

/** The stack records of the caller's account and region on one server. */
export class StackClient {
  constructor(
    private readonly endpoint: string,
    private readonly region: string,
    private readonly credentials: AwsCredentialIdentity,
  ) {}

  whoami(): Promise<Whoami> {
    return this.call<Whoami>('GET', '/junction/whoami')
  }

  async list(): Promise<StackRecord[]> {
    return (await this.call<{ stacks: StackRecord[] }>('GET', '/junction/stacks')).stacks
  }

  /** The record, or undefined when the stack does not exist. */
  async get(name: string): Promise<StackRecord | undefined> {
    try {
      return await this.call<StackRecord>('GET', path(name))
    } catch (e) {
      if (e instanceof StackApiError && e.status === 404) return undefined
      throw e
    }
  }

  put(record: StackDraft): Promise<StackRecord> {
    return this.call<StackRecord>('PUT', path(record.name), JSON.stringify(record))
  }

  async delete(name: string): Promise<void> {
    await this.call('DELETE', path(name))
  }

  private async call<T>(method: string, pathname: string, body?: string): Promise<T> {
    const url = new URL(pathname, this.endpoint)
    const res = await signedFetch({ endpointUrl: this.endpoint, region: this.region }, url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
      credentials: this.credentials,
    })
    const text = await res.text()
    if (!res.ok) {
      let code = res.headers.get('x-amzn-errortype') ?? `HTTP ${String(res.status)}`
      let message = text
      try {
        const parsed = JSON.parse(text) as { __type?: string; message?: string; Message?: string }
        code = parsed.__type ?? code
        message = parsed.message ?? parsed.Message ?? text
      } catch {
        // not JSON: the text as it came
      }
      throw new StackApiError(code, message, res.status)
    }
    return JSON.parse(text) as T
  }
}

const path = (name: string) => `/junction/stacks/${encodeURIComponent(name)}`

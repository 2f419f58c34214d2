/**
 * @module
 * The deploy command's side of `/junction/stacks` and `/junction/whoami`: JSON over HTTP,
 * signed with SigV4 (service `events`) by the same credentials as the SDK clients, so that a
 * server run with `--auth sigv4` knows the account (and a caller sees its own stacks only).
 */
import { createHash, createHmac } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'
import type { AwsCredentialIdentity } from '@aws-sdk/types'
import type { SourceData } from '@smithy/types'
import type { StackDraft, StackRecord } from './stack-record.js'

function bytes(d: SourceData): string | Uint8Array {
  if (typeof d === 'string' || d instanceof Uint8Array) return d
  if (ArrayBuffer.isView(d)) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
  return new Uint8Array(d)
}

/** SHA-256 (and its HMAC when given a key) over node:crypto, as the signer wants it. */
class Sha256 {
  private readonly hash: { update(d: string | Uint8Array): unknown; digest(): Buffer }
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret))
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data))
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()))
  }
}

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
  private readonly signer: SignatureV4

  constructor(
    private readonly endpoint: string,
    region: string,
    credentials: AwsCredentialIdentity,
  ) {
    this.signer = new SignatureV4({ service: 'events', region, credentials, sha256: Sha256 })
  }

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
    const headers: Record<string, string> = { host: url.host }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const signed = await this.signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      path: url.pathname,
      query: {},
      headers,
      ...(body === undefined ? {} : { body }),
    })
    let res: Response
    try {
      res = await fetch(url, {
        method,
        headers: signed.headers,
        ...(body === undefined ? {} : { body }),
      })
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause
      throw new Error(
        `Cannot reach the server at ${this.endpoint}: ${cause?.code ?? cause?.message ?? String(e)}`,
        { cause: e },
      )
    }
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

/**
 * @module
 * Functions' deployment packages shared by the nodes: CreateFunction and UpdateFunctionCode unpack
 * the zip on the node that took the call, and any other node may be the one that takes the
 * function's next invocation. The zip goes into the stream `JUNCTION_CODE` in chunks (a message
 * is bounded by the server's `max_payload`, 1 MB by default, and a zip may be 50 MB), under
 * `junction.code.<sha256 hex>.<n>`, with a manifest written last: a package whose manifest is
 * readable is complete. A node that lacks a package fetches it once and unpacks it where its own
 * CreateFunction would have.
 *
 * Packages are content-addressed, so two functions with the same zip share one copy and writing
 * one twice stores nothing new (message ids).
 */
import { createHash } from 'node:crypto'
import {
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import type { CodeStore } from '../ports.js'
import { publishDurably } from './publish.js'

export const CODE_STREAM = 'JUNCTION_CODE'
const PREFIX = 'junction.code'

type Manifest = { chunks: number; size: number }

export class NatsCodeStore implements CodeStore {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly chunkBytes: number,
  ) {}

  static async open(nc: NatsConnection, options: { replicas: number }): Promise<NatsCodeStore> {
    const jsm = await jetstreamManager(nc)
    const config = {
      name: CODE_STREAM,
      subjects: [`${PREFIX}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: options.replicas,
    }
    try {
      await jsm.streams.info(CODE_STREAM)
    } catch {
      await jsm.streams.add(config).catch(async (e: unknown) => {
        // Another node created it in the meantime.
        await jsm.streams.info(CODE_STREAM).catch(() => {
          throw e
        })
      })
    }
    // Room for the headers and the JetStream envelope under the server's limit.
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024
    const chunkBytes = Math.max(64 * 1024, Math.min(512 * 1024, maxPayload - 16 * 1024))
    return new NatsCodeStore(jetstream(nc), jsm, chunkBytes)
  }

  async put(zip: Buffer): Promise<string> {
    const hex = createHash('sha256').update(zip).digest('hex')
    if (await this.manifest(hex)) return hex
    let chunks = 0
    for (let at = 0; at < zip.length || chunks === 0; at += this.chunkBytes, chunks++) {
      const part = zip.subarray(at, at + this.chunkBytes)
      await publishDurably(this.js, `${PREFIX}.${hex}.${chunks}`, part, {
        msgID: `code.${hex}.${chunks}`,
      })
    }
    const manifest: Manifest = { chunks, size: zip.length }
    await publishDurably(this.js, `${PREFIX}.${hex}.manifest`, JSON.stringify(manifest), {
      msgID: `code.${hex}.manifest`,
    })
    return hex
  }

  async get(hex: string): Promise<Buffer | undefined> {
    if (!/^[0-9a-f]{64}$/.test(hex)) return undefined
    const manifest = await this.manifest(hex)
    if (!manifest) return undefined
    const parts: Buffer[] = []
    for (let i = 0; i < manifest.chunks; i++) {
      const m = await this.jsm.streams.getMessage(CODE_STREAM, {
        last_by_subj: `${PREFIX}.${hex}.${i}`,
      })
      if (!m) throw new Error(`function code ${hex}: part ${i} of ${manifest.chunks} is missing`)
      parts.push(Buffer.from(m.data))
    }
    const zip = Buffer.concat(parts)
    // The parts are checked as a whole: a package is never unpacked from pieces of two uploads.
    if (zip.length !== manifest.size || createHash('sha256').update(zip).digest('hex') !== hex)
      throw new Error(`function code ${hex}: the stored parts do not add up to the package`)
    return zip
  }

  private async manifest(hex: string): Promise<Manifest | undefined> {
    const m = await this.jsm.streams.getMessage(CODE_STREAM, {
      last_by_subj: `${PREFIX}.${hex}.manifest`,
    })
    return m ? (JSON.parse(new TextDecoder().decode(m.data)) as Manifest) : undefined
  }
}

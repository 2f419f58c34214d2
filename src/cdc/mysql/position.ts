/**
 * @module
 * Positions of a MySQL/MariaDB source, as text:
 * - the checkpoint: the GTID position after the last committed transaction, in the server's
 *   own form (MariaDB `domain-server-seq[,…]` as in `gtid_slave_pos`; MySQL `uuid:1-n[,…]` as
 *   in `gtid_executed`), which is what the binlog dump resumes from, exactly after it;
 * - a change's `version`, which orders the changes of one source as strings:
 *   MariaDB `<domain, 10 digits>-<sequence number, 20 digits>:<seq, 10 digits>`,
 *   MySQL `<server uuid>:<transaction number, 20 digits>:<seq, 10 digits>`;
 * - a change's id: a UUID (version 5 layout) of the source and `gtid:seq`.
 */
import { createHash } from 'node:crypto'
import { GtidSet, MariadbGtidPosition } from '@vlasky/zongji'
import { SourceConfigError, type Flavor } from './settings.js'

const pad = (n: number | string | bigint, width: number) => String(n).padStart(width, '0')

/** The GTID position a stream has committed up to; `add` records one more transaction. */
export class GtidPosition {
  private constructor(
    readonly flavor: Flavor,
    private readonly mariadb: MariadbGtidPosition | undefined,
    private readonly mysql: GtidSet | undefined,
  ) {}

  static parse(flavor: Flavor, text: string): GtidPosition {
    const clean = text.replace(/\s/g, '')
    try {
      return flavor === 'mariadb'
        ? new GtidPosition(flavor, MariadbGtidPosition.parse(clean), undefined)
        : new GtidPosition(flavor, undefined, GtidSet.parse(clean))
    } catch (err) {
      // a checkpoint of another server flavour, or damaged: retrying cannot help
      throw new SourceConfigError(
        `the checkpoint ${JSON.stringify(text)} is not a ${flavor === 'mariadb' ? 'MariaDB GTID position' : 'MySQL GTID set'}`,
        { cause: err },
      )
    }
  }

  add(gtid: string): void {
    if (this.mariadb) {
      const [domainId, serverId, seqNo] = gtid.split('-')
      this.mariadb.add({ domainId: Number(domainId), serverId: Number(serverId), seqNo: seqNo! })
    } else {
      this.mysql!.add(gtid)
    }
  }

  toString(): string {
    return (this.mariadb ?? this.mysql)!.toString()
  }

  /**
   * The version of the snapshot's rows: that of the first change of the last transaction the
   * snapshot contains, so every change streamed after the snapshot has a greater one. On a
   * server with several domains (or source uuids) it is taken from the first listed.
   */
  snapshotVersion(): string {
    const text = this.toString()
    if (this.flavor === 'mariadb') {
      const first = text.split(',')[0]
      if (!first) return `${pad(0, 10)}-${pad(0, 20)}:${pad(0, 10)}`
      const [domain, , seqNo] = first.split('-')
      return `${pad(domain!, 10)}-${pad(seqNo!, 20)}:${pad(0, 10)}`
    }
    const first = text.split(',')[0]
    if (!first) return `${'0'.repeat(36)}:${pad(0, 20)}:${pad(0, 10)}`
    const [uuid, ...intervals] = first.split(':')
    const last = intervals[intervals.length - 1] ?? '0'
    const end = last.includes('-') ? last.split('-')[1]! : last
    return `${uuid!}:${pad(end, 20)}:${pad(0, 10)}`
  }
}

/** `seq` is the change's place in its transaction. */
export function changeVersion(flavor: Flavor, gtid: string, seq: number): string {
  if (flavor === 'mariadb') {
    const [domain, , seqNo] = gtid.split('-')
    return `${pad(domain!, 10)}-${pad(seqNo!, 20)}:${pad(seq, 10)}`
  }
  const parts = gtid.split(':')
  const gno = parts[parts.length - 1]!
  const uuid = parts.slice(0, -1).join(':')
  return `${uuid}:${pad(gno, 20)}:${pad(seq, 10)}`
}

/**
 * A deterministic event id: the same change read twice (after a crash, a reconnect) gets the
 * same id. `source` names the source (account, region, name), `position` is `gtid:seq`.
 */
export function changeId(source: string, position: string): string {
  const h = createHash('sha1').update(`${source}\n${position}`).digest()
  h[6] = (h[6]! & 0x0f) | 0x50
  h[8] = (h[8]! & 0x3f) | 0x80
  const x = h.subarray(0, 16).toString('hex')
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`
}

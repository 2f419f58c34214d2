/**
 * @module
 * `junction migrate --data DIR --nats-url URL`: copies a single-node SQLite deployment into an
 * empty NATS store, for its nodes to start on: the configuration, functions' packages, the
 * scheduled rules' last ticks, the delivery jobs still owed (with their attempts and due times),
 * every archive's events, and the standard queues with their messages (FIFO queues are not
 * copied: distributed mode has none). The SQLite store is only read; the server that owns it
 * must be stopped (its data
 * directory is locked while it runs).
 *
 * Copying twice within two minutes stores nothing twice (messages keep their ids); later, a
 * second copy into the same NATS is refused because its configuration is not empty.
 */
import { systemClock } from '../../clock.js'
import type { PageKey } from '../../queue/model.js'
import type { ArchiveEntry, PendingDelivery } from '../../store/ports.js'
import { readFile } from 'node:fs/promises'
import type { FunctionRecord } from '../../functions/model.js'
import { NatsQueues } from '../../store/nats/queues.js'
import type { Archive, DeliveryJob, StoredEvent } from '../../model.js'
import { connectNats, openNatsParts } from '../../store/nats/index.js'
import { createSqliteStore } from '../../store/sqlite/index.js'

export type MigrateFlags = { data?: string; natsUrl?: string; natsReplicas?: string }

const PAGE = 500

export async function migrate(
  flags: MigrateFlags,
  out: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  if (flags.data === undefined || flags.natsUrl === undefined) {
    process.stderr.write('junction migrate needs --data DIR and --nats-url URL\n')
    return 2
  }
  const replicas = flags.natsReplicas === undefined ? 1 : Number(flags.natsReplicas)
  if (!Number.isInteger(replicas) || replicas < 1) {
    process.stderr.write(
      `--nats-replicas: ${String(flags.natsReplicas)} is not a positive integer\n`,
    )
    return 2
  }
  const log = { info: () => undefined, warn: () => undefined }
  let sqlite
  try {
    sqlite = createSqliteStore({ dataDir: flags.data })
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`)
    return 1
  }
  let nc
  try {
    nc = await connectNats({ url: flags.natsUrl, log })
  } catch (e) {
    await sqlite.close()
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`)
    return 1
  }
  try {
    const nats = await openNatsParts(nc, { url: flags.natsUrl, replicas, log })
    const existing = await nats.config.load()
    if (existing.length > 0) {
      process.stderr.write(
        `the NATS store already holds a configuration (${String(existing.length)} documents); junction migrate copies into an empty one\n`,
      )
      return 1
    }

    const config = await sqlite.config.load()
    for (const e of config) await nats.config.apply([{ op: 'put', ...e }])
    out(`configuration: ${String(config.length)} documents\n`)

    // Functions' packages, for whichever node runs them (local code directories stay where they are).
    let packages = 0
    for (const e of config) {
      const fn = e.doc as FunctionRecord
      if (e.kind !== 'function' || fn.localCode) continue
      const zip = await readFile(`${fn.codeDir}.zip`).catch(() => undefined)
      if (!zip) {
        out(
          `function ${fn.name} (${fn.account}, ${fn.region}): package missing at ${fn.codeDir}.zip\n`,
        )
        continue
      }
      await nats.code.put(zip)
      packages++
    }
    out(`function packages: ${String(packages)}\n`)

    const ticks = await sqlite.events.scheduleTicks()
    if (ticks.size > 0)
      await nats.events.append([], [], {
        ticks: [...ticks].map(([ruleArn, tick]) => ({ ruleArn, tick })),
      })
    out(`schedule ticks: ${String(ticks.size)}\n`)

    let jobs = 0
    for (let after: PendingDelivery['job'] | undefined; ;) {
      const page = await sqlite.events.due(after, PAGE)
      if (page.length === 0) break
      const events = new Map<string, StoredEvent>()
      const pageJobs: DeliveryJob[] = []
      for (const p of page) {
        events.set(p.event.id, p.event)
        pageJobs.push(p.job)
      }
      await nats.events.append([...events.values()], pageJobs)
      jobs += page.length
      after = page[page.length - 1]!.job
    }
    out(`delivery jobs owed: ${String(jobs)}\n`)

    let archived = 0
    const archives = config.filter((e) => e.kind === 'archive').map((e) => e.doc as Archive)
    for (const a of archives) {
      let n = 0
      for (let cursor: { time: number; seq: number } | undefined; ;) {
        const page = await sqlite.archives.page(a.key, -Infinity, Infinity, cursor, PAGE)
        if (page.length === 0) break
        // The archive's retention counts from when the event was archived.
        const events = page.map((p) => ({ ...p.event, ingestedAt: p.archivedAt }))
        const entries: ArchiveEntry[] = page.map((p, i) => ({
          archive: a.key,
          event: i,
          time: p.time,
        }))
        await nats.archives.write(events, entries)
        n += page.length
        const last = page[page.length - 1]!
        cursor = { time: last.time, seq: last.seq }
      }
      archived += n
      out(`archive ${a.name} (${a.account}, ${a.region}): ${String(n)} events\n`)
    }
    out(`archived events: ${String(archived)}\n`)
    const queues = await NatsQueues.open(
      nc,
      {
        events: nats.events,
        clock: systemClock,
        log: { warn: () => undefined, error: () => undefined },
      },
      { replicas },
    )
    try {
      let messages = 0
      for (const record of (await sqlite.queues.load()).queues) {
        if (record.attributes.FifoQueue === 'true') {
          out(`queue ${record.name} (${record.account}, ${record.region}): FIFO, not copied\n`)
          continue
        }
        const q = await queues.restore(record)
        let n = 0
        for (let after: PageKey = { visibleAt: Number.MIN_SAFE_INTEGER, seq: 0 }; ;) {
          const page = sqlite.queues.page(record.id, 'visibility', after, PAGE)
          if (page.length === 0) break
          n += await queues.restoreMessages(q, page)
          const last = page[page.length - 1]!
          after = { visibleAt: last.visibleAt, seq: last.seq }
        }
        messages += n
        out(`queue ${record.name} (${record.account}, ${record.region}): ${String(n)} messages\n`)
      }
      out(`queue messages: ${String(messages)}\n`)
    } finally {
      queues.close()
    }
    nats.events.close()
    nats.config.close()
    return 0
  } catch (e) {
    process.stderr.write(`migrate failed: ${e instanceof Error ? e.message : String(e)}\n`)
    return 1
  } finally {
    await nc.drain().catch(() => undefined)
    await sqlite.close()
  }
}

/**
 * A {@link CaptureSink} for the MySQL source's tests: batches and the checkpoint go into a real
 * SQLite file in one transaction, as the bus's runner does with its store. Every committed
 * change is kept (repeats included), so a test can count losses and duplicates.
 */
import Database from 'better-sqlite3'
import pino from 'pino'
import type {
  CaptureBatch,
  CaptureSink,
  Change,
  SourceDefinition,
  SourceDeps,
} from '../../src/cdc/model.js'

export type StoredChange = Change & { commit: number }

export class SqliteCaptureSink implements CaptureSink {
  private readonly db: Database.Database
  private commits = 0
  /** Set to make `commit` wait (a slow store). */
  delayMs = 0

  constructor(readonly file: string) {
    this.db = new Database(file)
    this.db.pragma('journal_mode = WAL')
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS changes (n INTEGER PRIMARY KEY, id TEXT NOT NULL, body TEXT NOT NULL, commit_no INTEGER NOT NULL);' +
        'CREATE TABLE IF NOT EXISTS checkpoint (k INTEGER PRIMARY KEY CHECK (k = 1), v TEXT NOT NULL);',
    )
    this.commits =
      (this.db.prepare('SELECT MAX(commit_no) AS c FROM changes').get() as { c: number | null })
        .c ?? 0
  }

  checkpoint(): string | undefined {
    const row = this.db.prepare('SELECT v FROM checkpoint WHERE k = 1').get() as
      { v: string } | undefined
    return row?.v
  }

  async commit(batch: CaptureBatch): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs))
    const commitNo = ++this.commits
    const insert = this.db.prepare('INSERT INTO changes (id, body, commit_no) VALUES (?, ?, ?)')
    const save = this.db.prepare(
      'INSERT INTO checkpoint (k, v) VALUES (1, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v',
    )
    this.db.transaction(() => {
      for (const c of batch.changes) insert.run(c.id, JSON.stringify(c), commitNo)
      if (batch.checkpoint !== undefined) save.run(batch.checkpoint)
    })()
  }

  changes(): StoredChange[] {
    return (
      this.db.prepare('SELECT body, commit_no FROM changes ORDER BY n').all() as {
        body: string
        commit_no: number
      }[]
    ).map((r) => ({ ...(JSON.parse(r.body) as Change), commit: r.commit_no }))
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS c FROM changes').get() as { c: number }).c
  }

  close(): void {
    this.db.close()
  }
}

export function definition(url: string, over: Partial<SourceDefinition> = {}): SourceDefinition {
  return {
    name: 'legacy',
    account: '111111111111',
    region: 'us-east-1',
    kind: 'mysql',
    url,
    busName: 'default',
    snapshot: false,
    detailTypeWithOp: false,
    oversize: 'fail',
    createdAt: 0,
    ...over,
  }
}

export function deps(): SourceDeps {
  return { now: Date.now, log: pino({ level: 'silent' }), maxEventBytes: 1024 * 1024 }
}

/** Polls until `check` holds (no fixed sleeps: the machine may be loaded). */
export async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

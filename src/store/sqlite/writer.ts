/**
 * @module
 * The writer thread: owns the write connection and commits batches of writes. Writes that
 * arrive while a transaction runs wait in the message port and go into the next one together
 * (group commit), so commits never block the thread that answers HTTP.
 */
import Database from 'better-sqlite3'
import { parentPort, workerData } from 'node:worker_threads'
import {
  openDatabase,
  writeStatements,
  type WriteAnswer,
  type WriteOp,
  type WriteRequest,
} from './writes.js'

const { file, synchronous } = workerData as { file: string; synchronous: 'full' | 'normal' }
const port = parentPort!
const db = openDatabase(Database, file, synchronous)
const apply = writeStatements(db)
// Inside the batch's transaction each write gets its own savepoint (better-sqlite3 nests
// transactions that way), so one failing write does not fail the others it was batched with.
const applyOne = db.transaction((op: WriteOp) => {
  apply(op)
})

let queue: { id: number; op: WriteOp }[] = []
let scheduled = false

function answer(a: WriteAnswer): void {
  port.postMessage(a)
}

function flush(): void {
  scheduled = false
  const batch = queue
  queue = []
  if (batch.length === 0) return
  const failed = new Map<number, string>()
  try {
    db.transaction(() => {
      for (const w of batch) {
        try {
          applyOne(w.op)
        } catch (e) {
          failed.set(w.id, e instanceof Error ? e.message : String(e))
        }
      }
    })()
  } catch (e) {
    // The commit itself failed (disk full, I/O error): nothing in the batch was stored.
    const message = e instanceof Error ? e.message : String(e)
    answer({ kind: 'failed', ids: batch.map((w) => w.id), message })
    return
  }
  for (const [id, message] of failed) answer({ kind: 'failed', ids: [id], message })
  answer({ kind: 'committed', ids: batch.map((w) => w.id).filter((id) => !failed.has(id)) })
}

port.on('message', (m: WriteRequest) => {
  if (m.kind === 'close') {
    flush()
    db.close()
    answer({ kind: 'closed' })
    port.close()
    return
  }
  for (const w of m.writes) queue.push(w)
  if (!scheduled) {
    scheduled = true
    setImmediate(flush)
  }
})

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
  const ids = batch.map((w) => w.id)
  try {
    db.transaction(() => {
      for (const w of batch) apply(w.op)
    })()
  } catch (e) {
    answer({ kind: 'failed', ids, message: e instanceof Error ? e.message : String(e) })
    return
  }
  answer({ kind: 'committed', ids })
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

/**
 * @module
 * Schema migrations, numbered and append-only: a released migration is never edited, a change
 * is a new entry. `user_version` records how many have been applied.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: control-plane documents, the event log, the delivery queue and dead letters.
  `
  CREATE TABLE config (
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    doc  TEXT NOT NULL,
    PRIMARY KEY (kind, key)
  ) WITHOUT ROWID;

  -- seq (the rowid) is the key: new events go to the end of the b-tree, where random event ids
  -- as a key slowed every insert down as the table grew. An id may repeat on one bus (a
  -- bus-to-bus delivery retried), so nothing here is unique but seq.
  CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    bus_arn     TEXT NOT NULL,
    id          TEXT NOT NULL,
    ingested_at INTEGER NOT NULL,
    hops        INTEGER NOT NULL,
    body        TEXT NOT NULL
  );

  CREATE TABLE deliveries (
    id         INTEGER PRIMARY KEY,
    event_seq  INTEGER NOT NULL,
    rule_arn   TEXT NOT NULL,
    target_id  TEXT NOT NULL,
    attempts   INTEGER NOT NULL,
    due_at     INTEGER NOT NULL
  );

  CREATE TABLE dead_letters (
    job_id      INTEGER PRIMARY KEY,
    dlq_arn     TEXT NOT NULL,
    event_seq   INTEGER NOT NULL,
    rule_arn    TEXT NOT NULL,
    target_arn  TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    error_code  TEXT NOT NULL,
    error_message TEXT NOT NULL,
    exhausted_retry_condition TEXT,
    retry_attempts INTEGER NOT NULL,
    at          INTEGER NOT NULL
  );
  CREATE INDEX dead_letters_by_queue ON dead_letters (dlq_arn, job_id);

  -- Which job ids have ever existed, so ids are never reused after their rows are deleted.
  CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO counters VALUES ('delivery_id', 0);
  `,
  // 2: queues, their messages, and the FIFO deduplication ids of the last 5 minutes.
  `
  CREATE TABLE queues (
    id   TEXT PRIMARY KEY,
    doc  TEXT NOT NULL
  ) WITHOUT ROWID;

  -- seq (the rowid) is the send order, so new messages go to the end of the b-tree.
  CREATE TABLE queue_messages (
    seq               INTEGER PRIMARY KEY,
    queue_id          TEXT NOT NULL,
    id                TEXT NOT NULL,
    body              TEXT NOT NULL,
    -- JSON: message attributes, sender, group and deduplication ids, trace header.
    meta              TEXT NOT NULL,
    sent_at           INTEGER NOT NULL,
    visible_at        INTEGER NOT NULL,
    receive_count     INTEGER NOT NULL,
    first_received_at INTEGER,
    receipt           TEXT
  );
  CREATE INDEX queue_messages_by_queue ON queue_messages (queue_id, seq);

  CREATE TABLE queue_dedup (
    queue_id   TEXT NOT NULL,
    key        TEXT NOT NULL,
    message_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (queue_id, key)
  ) WITHOUT ROWID;

  -- Message seqs are never reused: FIFO sequence numbers must keep growing.
  INSERT INTO counters VALUES ('message_seq', 0);
  `,
  // 3: queue messages paged by visibility. A standard queue keeps only a window of its messages
  // in memory and reads the next ones in (visible_at, seq) order; counts at start use it too.
  `
  CREATE INDEX queue_messages_by_visibility ON queue_messages (queue_id, visible_at, seq);
  `,
  // 4: pending jobs in the order the dispatcher pages them in (due time, then id), so a page
  // is an index range scan however large the backlog.
  `
  CREATE INDEX deliveries_by_due ON deliveries (due_at, id);
  `,
  // 5: a message's latest receive time, which the 12-hour limit on its visibility counts from
  // (a message in flight may be only in the store).
  `
  ALTER TABLE queue_messages ADD COLUMN received_at INTEGER;
  `,
  // 6: archived events. A row points at the event's row in the (append-only) event log instead
  // of copying its text, so archiving an event costs one small row. The key is the order
  // replays read in (event time, then seq); purges and counts scan one archive's range.
  `
  CREATE TABLE archive_events (
    archive     INTEGER NOT NULL, -- the archive's key (Archive.key)
    time        INTEGER NOT NULL,
    event_seq   INTEGER NOT NULL,
    archived_at INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    PRIMARY KEY (archive, time, event_seq)
  ) WITHOUT ROWID;
  `,
  // 7: the latest tick fired of each scheduled rule, written in the transaction that stores the
  // tick's event and jobs.
  `
  CREATE TABLE schedule_ticks (
    rule_arn TEXT PRIMARY KEY,
    tick     INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 8: where the event's time and detail sit in its text (envelope-positions.ts), so a query
  // over an archive slices them out instead of parsing every event's whole JSON. NULL for rows
  // archived before: the query reads their JSON.
  `
  ALTER TABLE archive_events ADD COLUMN time_at INTEGER;
  ALTER TABLE archive_events ADD COLUMN detail_at INTEGER;
  `,
]

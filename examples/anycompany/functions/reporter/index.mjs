/**
 * Service C's report, a Lambda function (Node.js) that a schedule runs every minute. It asks
 * Junction for widgets per warehouse per day with SQL over C's archive (`POST /junction/query`,
 * Junction's own route, signed with SigV4 like any AWS call, with the function's credentials
 * from its environment), then prints the table to its log and writes the report, as JSON, to
 * the file REPORT_FILE names.
 */
import { SignatureV4 } from '@smithy/signature-v4'
import { createHash, createHmac } from 'node:crypto'
import { renameSync, writeFileSync } from 'node:fs'

const SQL = `
  SELECT substr(json_extract(detail, '$.time'), 1, 10) AS day,
         json_extract(detail, '$.warehouse') AS warehouse,
         count(*) AS widgets,
         round(sum(json_extract(detail, '$.weight')), 2) AS total_weight_kg
    FROM events
   WHERE detail_type = 'NEW_WIDGET'
   GROUP BY day, warehouse
   ORDER BY day, warehouse`

/** The hash the signer needs, over node:crypto. */
class Sha256 {
  constructor(secret) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret)
  }
  update(data) {
    this.hash.update(data)
  }
  async digest() {
    return new Uint8Array(this.hash.digest())
  }
}

async function signedPost(path, body) {
  const url = new URL(path, process.env.AWS_ENDPOINT_URL)
  const signer = new SignatureV4({
    service: 'events',
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID,
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
      ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}),
    },
    sha256: Sha256,
  })
  const request = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port === '' ? undefined : Number(url.port),
    path: url.pathname,
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
  })
  const res = await fetch(url, { method: 'POST', headers: request.headers, body })
  const text = await res.text()
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${text}`)
  return JSON.parse(text)
}

export async function handler(event) {
  const archive = process.env.ARCHIVE_NAME
  const result = await signedPost(
    '/junction/query',
    JSON.stringify({ archive, sql: SQL, format: 'json' }),
  )
  const rows = result.rows.map((r) => Object.fromEntries(result.columns.map((c, i) => [c, r[i]])))
  const report = { asOf: event.time, archive, rows }
  console.log(`widgets per warehouse per day (archive ${archive}, as of ${event.time}):`)
  for (const r of rows)
    console.log(
      `  ${r.day}  ${r.warehouse.padEnd(6)} ${String(r.widgets).padStart(4)} widgets ${String(r.total_weight_kg).padStart(9)} kg`,
    )
  const file = process.env.REPORT_FILE
  if (file) {
    // Written whole, then renamed, so a reader never sees half a report.
    writeFileSync(`${file}.tmp`, `${JSON.stringify(report, null, 2)}\n`)
    renameSync(`${file}.tmp`, file)
  }
  return { rows: rows.length }
}

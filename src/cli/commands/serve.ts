/**
 * @module
 * `junction serve`: the bus on the embedded store (or, as one node of several, on NATS), until
 * SIGTERM or SIGINT.
 */
import { setFlagsFromString } from 'node:v8'
import { startServer } from '../../bus.js'
import {
  configFromEnv,
  checkConfig,
  parseAccount,
  parseAuth,
  parseClock,
  parseHeapGrowth,
  parsePort,
  parsePositive,
  parseStore,
  parseSync,
  type ServeConfig,
} from '../../config.js'
import { parseDuration } from '../../duration.js'

export type ServeFlags = {
  host?: string
  port?: string
  data?: string
  store?: string
  natsUrl?: string
  natsReplicas?: string
  natsAckWait?: string
  region?: string
  account?: string
  maxRequestSize?: string
  sync?: string
  queueWindow?: string
  deliveryWindow?: string
  clock?: string
  scheduleGrace?: string
  auth?: string
  credentials?: string
  allowManualClock?: boolean
  logLevel?: string
  functionConcurrency?: string
  functionIdle?: string
  heapGrowth?: string
}

/** Flags win over `JUNCTION_*` variables, which win over the defaults. */
export function serveConfig(flags: ServeFlags, env: NodeJS.ProcessEnv): ServeConfig {
  const c = configFromEnv(env)
  if (flags.host !== undefined) c.host = flags.host
  if (flags.port !== undefined) c.port = parsePort(flags.port)
  if (flags.data !== undefined) c.dataDir = flags.data
  if (flags.store !== undefined) c.store = parseStore(flags.store)
  if (flags.natsUrl !== undefined) c.natsUrl = flags.natsUrl
  if (flags.natsReplicas !== undefined)
    c.natsReplicas = parsePositive(flags.natsReplicas, 'NATS replicas')
  if (flags.natsAckWait !== undefined) c.natsAckWaitMs = parseDuration(flags.natsAckWait)
  if (flags.region !== undefined) c.region = flags.region
  if (flags.account !== undefined) c.defaultAccount = parseAccount(flags.account)
  if (flags.maxRequestSize !== undefined)
    c.maxRequestSize = parsePositive(flags.maxRequestSize, 'max request size')
  if (flags.sync !== undefined) c.sync = parseSync(flags.sync)
  if (flags.queueWindow !== undefined)
    c.queueWindow = parsePositive(flags.queueWindow, 'queue window')
  if (flags.deliveryWindow !== undefined)
    c.deliveryWindow = parsePositive(flags.deliveryWindow, 'delivery window')
  if (flags.clock !== undefined) c.clockKind = parseClock(flags.clock)
  if (flags.scheduleGrace !== undefined) c.scheduleGraceMs = parseDuration(flags.scheduleGrace)
  if (flags.auth !== undefined) c.auth = parseAuth(flags.auth)
  if (flags.credentials !== undefined) c.credentialsFile = flags.credentials
  if (flags.allowManualClock) c.allowManualClock = true
  if (flags.logLevel !== undefined) c.logLevel = flags.logLevel
  if (flags.functionConcurrency !== undefined)
    c.functionConcurrency = parsePositive(flags.functionConcurrency, 'function concurrency')
  if (flags.functionIdle !== undefined) c.functionIdleMs = parseDuration(flags.functionIdle)
  if (flags.heapGrowth !== undefined) c.heapGrowthPercent = parseHeapGrowth(flags.heapGrowth)
  checkConfig(c)
  return c
}

export async function serve(flags: ServeFlags): Promise<void> {
  const config = serveConfig(flags, process.env)
  // The windows bound what is live; this bounds the garbage around it. Every job and message
  // paged through a window lives long enough to reach the old generation, and V8's own growth
  // factor then lets the old space reach 3-4 times its live set before collecting: about
  // 100 MB of RSS in bench:backlog, for no measurable CPU (docs/server.md, Memory).
  if (config.heapGrowthPercent)
    setFlagsFromString(`--heap-growing-percent=${String(config.heapGrowthPercent)}`)
  const running = await startServer({
    ...config,
    // Exit so that a supervisor restarts the process: every acknowledged job is in the store.
    onFatal: () => process.exit(1),
  })
  const stop = () => {
    void running.close().then(
      () => process.exit(0),
      (e: unknown) => {
        running.bus.log.fatal({ err: e }, 'could not stop cleanly')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

/**
 * @module
 * Server settings: defaults, then `JUNCTION_*` environment variables, then command-line flags.
 */
import { parseDuration } from './duration.js'

export type ServeConfig = {
  host: string
  port: number
  /** Directory of the embedded store. */
  dataDir: string
  store: 'sqlite' | 'memory' | 'nats'
  /** With `store: nats`: the NATS servers, comma-separated. */
  natsUrl?: string
  /** With `store: nats`: copies of every stream and bucket (3 on a three-server cluster). */
  natsReplicas?: number
  /**
   * With `store: nats`: how long a node may hold a delivery job without a sign of life before
   * NATS gives it to another node (how soon a dead node's work moves on). @default 30 s
   */
  natsAckWaitMs?: number
  region: string
  /** Account for unsigned requests and access keys that do not name one. */
  defaultAccount: string
  /** Largest total size of one PutEvents request's entries, in bytes. */
  maxRequestSize: number
  /** SQLite synchronous mode: `full` survives power loss, `normal` survives a process crash. */
  sync: 'full' | 'normal'
  /**
   * Messages per queue held in memory; the rest stay only in the store and are paged in as
   * receives need them. @default 10000
   */
  queueWindow: number
  /**
   * Most delivery jobs held in memory at once; the rest of the backlog waits in the store.
   * @default 10000
   */
  deliveryWindow: number
  /**
   * `system`, or `manual`: time starts at the real time and moves only when told to (the
   * `/junction/clock` call, `junction clock advance`), for tests of schedules and retries.
   */
  clockKind: 'system' | 'manual'
  /** Ticks of scheduled rules missed while down are still fired at start if this recent (ms). */
  scheduleGraceMs: number
  /** `off`: any credentials are accepted (local use); `sigv4`: every request's signature is checked. */
  auth: 'off' | 'sigv4'
  /** With `auth: sigv4`: the identities, in the AWS shared credentials format. */
  credentialsFile?: string
  /** With `auth: sigv4`, the manual clock is refused unless this is set. */
  allowManualClock: boolean
  logLevel: string
  /** Function instances running at once, across all functions. @default 64 */
  functionConcurrency?: number
  /** An idle function instance stops after this long (ms). @default 5 minutes */
  functionIdleMs?: number
  /**
   * How far the JavaScript heap may grow past what a full collection left live, in percent
   * (V8's `--heap-growing-percent`); 0 leaves V8's own factor, which lets garbage reach 3–4
   * times the live set. Applied to the process by `junction serve`, not by `startServer`.
   * @default 50
   */
  heapGrowthPercent?: number
}

export const DEFAULTS: ServeConfig = {
  host: '127.0.0.1',
  port: 4010,
  dataDir: './.junction',
  store: 'sqlite',
  region: 'us-east-1',
  defaultAccount: '000000000000',
  maxRequestSize: 1_048_576,
  sync: 'full',
  queueWindow: 10_000,
  deliveryWindow: 10_000,
  clockKind: 'system',
  scheduleGraceMs: 5 * 60_000,
  auth: 'off',
  allowManualClock: false,
  logLevel: 'info',
  functionConcurrency: 64,
  functionIdleMs: 5 * 60_000,
  heapGrowthPercent: 50,
}

/** Reads `JUNCTION_HOST`, `JUNCTION_PORT`, `JUNCTION_DATA`, … over the defaults. */
export function configFromEnv(env: NodeJS.ProcessEnv): ServeConfig {
  const c = { ...DEFAULTS }
  if (env.JUNCTION_HOST) c.host = env.JUNCTION_HOST
  if (env.JUNCTION_PORT) c.port = parsePort(env.JUNCTION_PORT)
  if (env.JUNCTION_DATA) c.dataDir = env.JUNCTION_DATA
  if (env.JUNCTION_STORE) c.store = parseStore(env.JUNCTION_STORE)
  if (env.JUNCTION_NATS_URL) c.natsUrl = env.JUNCTION_NATS_URL
  if (env.JUNCTION_NATS_REPLICAS)
    c.natsReplicas = parsePositive(env.JUNCTION_NATS_REPLICAS, 'NATS replicas')
  if (env.JUNCTION_NATS_ACK_WAIT) c.natsAckWaitMs = parseDuration(env.JUNCTION_NATS_ACK_WAIT)
  if (env.JUNCTION_REGION) c.region = env.JUNCTION_REGION
  if (env.JUNCTION_ACCOUNT) c.defaultAccount = parseAccount(env.JUNCTION_ACCOUNT)
  if (env.JUNCTION_MAX_REQUEST_SIZE)
    c.maxRequestSize = parsePositive(env.JUNCTION_MAX_REQUEST_SIZE, 'max request size')
  if (env.JUNCTION_SYNC) c.sync = parseSync(env.JUNCTION_SYNC)
  if (env.JUNCTION_QUEUE_WINDOW)
    c.queueWindow = parsePositive(env.JUNCTION_QUEUE_WINDOW, 'queue window')
  if (env.JUNCTION_DELIVERY_WINDOW)
    c.deliveryWindow = parsePositive(env.JUNCTION_DELIVERY_WINDOW, 'delivery window')
  if (env.JUNCTION_CLOCK) c.clockKind = parseClock(env.JUNCTION_CLOCK)
  if (env.JUNCTION_SCHEDULE_GRACE) c.scheduleGraceMs = parseDuration(env.JUNCTION_SCHEDULE_GRACE)
  if (env.JUNCTION_AUTH) c.auth = parseAuth(env.JUNCTION_AUTH)
  if (env.JUNCTION_CREDENTIALS) c.credentialsFile = env.JUNCTION_CREDENTIALS
  if (env.JUNCTION_LOG_LEVEL) c.logLevel = env.JUNCTION_LOG_LEVEL
  if (env.JUNCTION_FUNCTION_CONCURRENCY)
    c.functionConcurrency = parsePositive(env.JUNCTION_FUNCTION_CONCURRENCY, 'function concurrency')
  if (env.JUNCTION_FUNCTION_IDLE) c.functionIdleMs = parseDuration(env.JUNCTION_FUNCTION_IDLE)
  if (env.JUNCTION_HEAP_GROWTH) c.heapGrowthPercent = parseHeapGrowth(env.JUNCTION_HEAP_GROWTH)
  return c
}

export function parseAuth(v: string): 'off' | 'sigv4' {
  if (v !== 'off' && v !== 'sigv4') throw new Error(`invalid auth mode: ${v} (off or sigv4)`)
  return v
}

/** Settings that only make sense together; throws an Error that says what to change. */
export function checkConfig(
  c: Pick<ServeConfig, 'auth' | 'clockKind' | 'allowManualClock' | 'store'> & {
    credentialsFile?: string | undefined
    natsUrl?: string | undefined
  },
): void {
  if (c.store === 'nats' && c.natsUrl === undefined)
    throw new Error('--store nats needs --nats-url URL (nats://host:4222, several comma-separated)')
  if (c.store === 'nats' && c.clockKind === 'manual')
    throw new Error(
      "--clock manual is one process's clock; nodes sharing a NATS store keep the real time",
    )
  if (c.auth === 'sigv4' && c.credentialsFile === undefined)
    throw new Error('--auth sigv4 needs --credentials FILE (the identities and their secrets)')
  if (c.auth === 'sigv4' && c.clockKind === 'manual' && !c.allowManualClock)
    throw new Error(
      '--clock manual lets any signed caller move time; with --auth sigv4 add --allow-manual-clock to mean it',
    )
}

export function parseClock(v: string): 'system' | 'manual' {
  if (v !== 'system' && v !== 'manual') throw new Error(`invalid clock: ${v} (system or manual)`)
  return v
}

export function parsePort(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid port: ${v}`)
  return n
}

export function parseStore(v: string): 'sqlite' | 'memory' | 'nats' {
  if (v !== 'sqlite' && v !== 'memory' && v !== 'nats')
    throw new Error(`invalid store: ${v} (sqlite, memory or nats)`)
  return v
}

export function parseSync(v: string): 'full' | 'normal' {
  if (v !== 'full' && v !== 'normal') throw new Error(`invalid sync mode: ${v} (full or normal)`)
  return v
}

export function parseAccount(v: string): string {
  if (!/^\d{12}$/.test(v)) throw new Error(`invalid account: ${v} (12 digits)`)
  return v
}

/** A heap growth in percent: 0 (V8's own factor) or 1–1000. */
export function parseHeapGrowth(v: string): number {
  const n = v.trim() === '' ? NaN : Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 1000)
    throw new Error(`invalid heap growth: ${v} (a percent from 1 to 1000, or 0 for V8's own)`)
  return n
}

export function parsePositive(v: string, what: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`invalid ${what}: ${v}`)
  return n
}

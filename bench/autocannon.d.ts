/**
 * The part of autocannon 9's programmatic API the benchmarks use (the package ships no types).
 */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  export type Histogram = {
    average: number
    mean: number
    stddev: number
    min: number
    max: number
    total: number
    p50: number
    p90: number
    p99: number
  }

  export type Options = {
    url: string
    connections?: number
    /** Seconds. */
    duration?: number
    amount?: number
    method?: string
    headers?: Record<string, string>
    body?: string
    /** Responses for which this returns false are counted in `mismatches`. */
    verifyBody?: (body: string) => boolean
    timeout?: number
  }

  export type Result = {
    requests: Histogram
    latency: Histogram
    duration: number
    errors: number
    timeouts: number
    mismatches: number
    non2xx: number
    '2xx': number
  }

  /** Emits `response` (client, statusCode, resBytes, responseTime in ms) per response. */
  export type Instance = EventEmitter & PromiseLike<Result> & { stop(): void }

  function autocannon(options: Options): Instance
  export default autocannon
}

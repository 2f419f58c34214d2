/**
 * @module
 * Token buckets on the injected clock, one per key (an API destination ARN), for
 * `InvocationRateLimitPerSecond`.
 *
 * AWS documents the setting as "the maximum number of invocations per second to send to the API
 * destination endpoint" and says events over it are delayed, not failed (user guide, "How
 * invocation rate affects event delivery"; quota page: throttled invocations are delayed). The
 * bucket holds at most one second's worth of tokens, so a quiet destination may take a burst of
 * `rate` invocations at once and then `rate` per second on average. How AWS shapes bursts is not
 * documented (assumed).
 */
import type { Clock } from '../../clock.js'

type Bucket = { tokens: number; at: number; rate: number }

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>()

  constructor(private readonly clock: Clock) {}

  /**
   * Takes one token from `key`'s bucket. Returns 0 when one was taken, otherwise the milliseconds
   * (at least 1) until one will be available; nothing is taken then.
   */
  take(key: string, ratePerSecond: number): number {
    const rate = ratePerSecond > 0 && Number.isFinite(ratePerSecond) ? ratePerSecond : 1
    const now = this.clock.now()
    let b = this.buckets.get(key)
    if (!b) {
      b = { tokens: rate, at: now, rate }
      this.buckets.set(key, b)
    } else {
      // The limit may have changed (UpdateApiDestination): the bucket takes the new capacity.
      if (b.rate !== rate) b.rate = rate
      const elapsed = now - b.at
      if (elapsed > 0) b.tokens = Math.min(rate, b.tokens + (elapsed * rate) / 1000)
      else if (b.tokens > rate) b.tokens = rate
      b.at = Math.max(b.at, now)
    }
    if (b.tokens >= 1) {
      b.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil(((1 - b.tokens) * 1000) / rate))
  }

  /** Drops `key`'s bucket (the destination was deleted). */
  delete(key: string): void {
    this.buckets.delete(key)
  }
}

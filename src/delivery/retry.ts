/**
 * @module
 * When to try a failed delivery again. EventBridge retries with exponential backoff and jitter
 * for up to 24 hours and 185 attempts by default, bounded by the target's RetryPolicy, whichever
 * ends first (reference §9.1). It does not publish its curve; ours doubles from 1 s up to a
 * 5-minute ceiling with "equal jitter" (half fixed, half random), so 185 attempts span roughly
 * the 24 hours the defaults allow.
 */
import type { RetryPolicy } from '../model.js'

export const FIRST_RETRY_MS = 1_000
export const MAX_RETRY_DELAY_MS = 300_000

/** Delay before retry number `retry` (1 for the first retry). `random` is in [0, 1). */
export function backoffMs(retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_MS * 2 ** Math.min(30, retry - 1))
  return ceiling / 2 + (random() * ceiling) / 2
}

export type RetryDecision =
  | { retry: true; dueAt: number }
  | { retry: false; exhausted: 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds' }

/**
 * After `attempts` failed attempts (retryable failures), retry or give up. `ingestedAt` and `now`
 * are epoch milliseconds.
 */
export function decideRetry(
  policy: RetryPolicy,
  attempts: number,
  ingestedAt: number,
  now: number,
  random: () => number = Math.random,
  /** The target's own `Retry-After`, when it gave one: the retry waits at least that long. */
  notBeforeMs = 0,
): RetryDecision {
  if (attempts > policy.maximumRetryAttempts)
    return { retry: false, exhausted: 'MaximumRetryAttempts' }
  const dueAt = now + Math.max(backoffMs(attempts, random), notBeforeMs)
  if (dueAt - ingestedAt > policy.maximumEventAgeSeconds * 1000)
    return { retry: false, exhausted: 'MaximumEventAgeInSeconds' }
  return { retry: true, dueAt }
}

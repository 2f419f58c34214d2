/**
 * @module
 * Live tail: every event ingested on a bus, with the rules it matched, pushed to subscribers
 * (the `/tail` Server-Sent Events stream). A subscriber may narrow the stream with a pattern,
 * compiled by the same engine as rules.
 */
import { createMatcher, type Matcher } from '../pattern/index.js'

export type TailRecord = {
  busArn: string
  /** The envelope as targets receive it. */
  text: string
  envelope: object
  rules: string[]
}

type Subscriber = { busArn: string; matcher?: Matcher; send: (line: string) => void }

export class TailHub {
  private readonly subscribers = new Set<Subscriber>()

  get size(): number {
    return this.subscribers.size
  }

  /**
   * Subscribes to a bus; `pattern` (optional) is validated here, so a bad one throws
   * PatternError before anything is sent. Returns the unsubscribe function.
   */
  subscribe(busArn: string, pattern: string | undefined, send: (line: string) => void): () => void {
    let matcher: Matcher | undefined
    if (pattern !== undefined) {
      matcher = createMatcher()
      matcher.add('tail', pattern)
    }
    const sub: Subscriber = matcher ? { busArn, matcher, send } : { busArn, send }
    this.subscribers.add(sub)
    return () => {
      this.subscribers.delete(sub)
    }
  }

  publish(record: TailRecord): void {
    if (this.subscribers.size === 0) return
    let line: string | undefined
    for (const s of this.subscribers) {
      if (s.busArn !== record.busArn) continue
      if (s.matcher && s.matcher.matches(record.envelope).length === 0) continue
      line ??= `{"event":${record.text},"rules":${JSON.stringify(record.rules)}}`
      s.send(line)
    }
  }
}

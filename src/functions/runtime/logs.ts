/**
 * @module
 * Each function's log: a bounded ring of recent lines, followers, and the copy written to the
 * server's own log.
 */
import type { Logger } from 'pino'
import type { FunctionLogs } from '../runner.js'

/** Lines kept per function for `recent()`. */
const RING = 1000

export class FunctionLog implements FunctionLogs {
  private readonly lines: string[] = []
  private start = 0
  private readonly followers = new Set<(line: string) => void>()

  constructor(
    private readonly name: string,
    private readonly log: Logger,
  ) {}

  add(line: string): void {
    if (this.lines.length < RING) this.lines.push(line)
    else {
      this.lines[this.start] = line
      this.start = (this.start + 1) % RING
    }
    this.log.info({ function: this.name }, line)
    for (const follower of this.followers) follower(line)
  }

  recent(limit: number): string[] {
    const ordered = this.lines.slice(this.start).concat(this.lines.slice(0, this.start))
    return limit >= ordered.length ? ordered : ordered.slice(ordered.length - limit)
  }

  follow(onLine: (line: string) => void): () => void {
    this.followers.add(onLine)
    return () => this.followers.delete(onLine)
  }
}

/** `LogType: Tail`: the last 4 KB of one invocation's lines, base64. */
export function tail(lines: string[]): string {
  const all = Buffer.from(lines.join('\n') + '\n')
  return all.subarray(Math.max(0, all.length - 4096)).toString('base64')
}

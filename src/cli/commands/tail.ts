/**
 * @module
 * `junction tail --bus NAME [--pattern P]`: prints the events ingested on a bus as they arrive,
 * one JSON line each (`{"event":…,"rules":[…]}`), from the server's `/tail` stream. The server
 * and the caller are found as for the other client commands (`client.ts`); the stream's request
 * is signed, so a server checking signatures lets the caller tail its own account's buses.
 */
import { endpointOf, errorText, signedFetch, type ClientFlags } from './client.js'
import { textArgument } from './test-pattern.js'

export type TailFlags = ClientFlags & {
  bus: string
  pattern?: string
  /** The older name of `endpointUrl` (`--endpoint`), still accepted. */
  endpoint?: string
  /** Stops tailing (for tests; the command itself runs until interrupted). */
  signal?: AbortSignal
}

export async function tail(
  flags: TailFlags,
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  const url = new URL('/tail', flags.endpointUrl ?? flags.endpoint ?? endpointOf(flags))
  url.searchParams.set('bus', flags.bus)
  if (flags.pattern !== undefined) url.searchParams.set('pattern', textArgument(flags.pattern))
  if (flags.account !== undefined) url.searchParams.set('account', flags.account)
  if (flags.region !== undefined) url.searchParams.set('region', flags.region)
  const res = await signedFetch(flags, url, flags.signal ? { signal: flags.signal } : {})
  if (!res.ok || !res.body) {
    process.stderr.write(`${await errorText(res)}\n`)
    return 2
  }
  const decoder = new TextDecoder()
  let buffer = ''
  try {
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true })
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const message = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        for (const line of message.split('\n')) {
          if (line.startsWith('data: ')) out(line.slice(6))
          // The server dropped events this reader was too slow for (stdout stays events only).
          else if (line.startsWith(': dropped ')) process.stderr.write(`${line.slice(2)}\n`)
        }
      }
    }
  } catch (e) {
    if (flags.signal?.aborted) return 0
    process.stderr.write(
      `the server closed the stream (${e instanceof Error ? e.message : String(e)})\n`,
    )
    return 1
  }
  process.stderr.write('the server closed the stream\n')
  return 1
}

/**
 * @module
 * `junction logs FUNCTION [--follow]`: prints a function's log lines (START, END, REPORT and what
 * the function wrote), the recent ones and, with `--follow`, new ones as they come, from the
 * server's `GET /2015-03-31/functions/{name}/logs` stream. The server and the caller are found as
 * for the other client commands (`client.ts`), `AWS_ENDPOINT_URL_LAMBDA` first as the AWS CLI
 * reads it; the request is signed for Lambda (service `lambda`), as the Lambda API's are.
 */

import { endpointOf, errorText, signedFetch, type ClientFlags } from './client.js'

export type LogsFlags = ClientFlags & {
  function: string
  follow?: boolean
  /** Stops following (for tests; the command itself runs until interrupted). */
  signal?: AbortSignal
}

export async function logs(
  flags: LogsFlags,
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  const url = new URL(
    `/2015-03-31/functions/${encodeURIComponent(flags.function)}/logs`,
    endpointOf(flags, 'lambda'),
  )
  if (flags.follow) url.searchParams.set('follow', 'true')
  let res: Response
  try {
    res = await signedFetch(flags, url, {
      service: 'lambda',
      ...(flags.signal ? { signal: flags.signal } : {}),
    })
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`)
    return 2
  }
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
      while ((end = buffer.indexOf('\n')) >= 0) {
        out(buffer.slice(0, end))
        buffer = buffer.slice(end + 1)
      }
    }
  } catch (e) {
    if (flags.signal?.aborted) return 0
    process.stderr.write(
      `the server closed the stream (${e instanceof Error ? e.message : String(e)})\n`,
    )
    return 1
  }
  if (buffer !== '') out(buffer)
  return 0
}

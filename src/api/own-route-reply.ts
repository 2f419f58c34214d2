/**
 * @module
 * The answers of Junction's own JSON routes (`/junction/stacks`, `/junction/sinks`,
 * `/junction/sources`): a status and a document, errors as AWS shapes them
 * (`{"__type","message"}` with `x-amzn-errortype`).
 */
import type { ServerResponse } from 'node:http'

export type Reply = { status: number; doc: unknown; errorType?: string }

export const ok = (doc: unknown): Reply => ({ status: 200, doc })

export const refuse = (status: number, type: string, message: string): Reply => ({
  status,
  doc: { __type: type, message },
  errorType: type,
})

export function sendReply(res: ServerResponse, reply: Reply): void {
  const text = JSON.stringify(reply.doc)
  res.writeHead(reply.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(reply.errorType === undefined ? {} : { 'x-amzn-errortype': reply.errorType }),
  })
  res.end(text)
}

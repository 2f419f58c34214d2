/**
 * @module
 * ARNs in EventBridge's formats (reference §2.1): buses, rules (the default bus's rules omit the
 * bus name), connections and API destinations.
 */
import type { Scope } from './model.js'

export const busArn = (s: Scope, name: string) =>
  `arn:aws:events:${s.region}:${s.account}:event-bus/${name}`

export const ruleArn = (s: Scope, bus: string, rule: string) =>
  bus === 'default'
    ? `arn:aws:events:${s.region}:${s.account}:rule/${rule}`
    : `arn:aws:events:${s.region}:${s.account}:rule/${bus}/${rule}`

export const connectionArn = (s: Scope, name: string, uuid: string) =>
  `arn:aws:events:${s.region}:${s.account}:connection/${name}/${uuid}`

export const apiDestinationArn = (s: Scope, name: string, uuid: string) =>
  `arn:aws:events:${s.region}:${s.account}:api-destination/${name}/${uuid}`

export const queueArn = (s: Scope, name: string) => `arn:aws:sqs:${s.region}:${s.account}:${name}`

export type ParsedArn = {
  partition: string
  service: string
  region: string
  account: string
  resource: string
}

export function parseArn(arn: string): ParsedArn | undefined {
  const m = /^arn:([^:]+):([^:]+):([^:]*):([^:]*):(.+)$/.exec(arn)
  if (!m) return undefined
  return { partition: m[1]!, service: m[2]!, region: m[3]!, account: m[4]!, resource: m[5]! }
}

/** A bus name from a name or a bus ARN (`arn:…:event-bus/<name>`), as the API accepts either. */
export function busNameOf(nameOrArn: string): string {
  const i = nameOrArn.indexOf(':event-bus/')
  return nameOrArn.startsWith('arn:') && i >= 0
    ? nameOrArn.slice(i + ':event-bus/'.length)
    : nameOrArn
}

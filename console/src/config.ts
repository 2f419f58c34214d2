/**
 * @module
 * The live configuration as the console shows it: buses, their rules and each rule's targets,
 * read with ListEventBuses, ListRules and ListTargetsByRule (all pages).
 */
import { events, listAll, type Identity } from './aws/client.js'

export type Bus = { Name: string; Arn: string; Policy?: string }
export type Rule = {
  Name: string
  Arn: string
  EventBusName?: string
  EventPattern?: string
  ScheduleExpression?: string
  RoleArn?: string
  State?: string
  Description?: string
}
export type Target = {
  Id: string
  Arn: string
  Input?: string
  InputPath?: string
  InputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate: string }
  DeadLetterConfig?: { Arn?: string }
}
export type RuleWithTargets = Rule & { targets: Target[] }

export const listBuses = (id: Identity) =>
  listAll<Bus>(async (NextToken) => {
    const out = await events<{ EventBuses?: Bus[]; NextToken?: string }>(id, 'ListEventBuses', {
      ...(NextToken === undefined ? {} : { NextToken }),
    })
    return { items: out.EventBuses ?? [], next: out.NextToken }
  })

export const listRules = (id: Identity, bus: string) =>
  listAll<Rule>(async (NextToken) => {
    const out = await events<{ Rules?: Rule[]; NextToken?: string }>(id, 'ListRules', {
      EventBusName: bus,
      ...(NextToken === undefined ? {} : { NextToken }),
    })
    return { items: out.Rules ?? [], next: out.NextToken }
  })

export const listTargets = (id: Identity, bus: string, rule: string) =>
  listAll<Target>(async (NextToken) => {
    const out = await events<{ Targets?: Target[]; NextToken?: string }>(id, 'ListTargetsByRule', {
      EventBusName: bus,
      Rule: rule,
      ...(NextToken === undefined ? {} : { NextToken }),
    })
    return { items: out.Targets ?? [], next: out.NextToken }
  })

export async function rulesWithTargets(id: Identity, bus: string): Promise<RuleWithTargets[]> {
  const rules = await listRules(id, bus)
  return Promise.all(
    rules.map(async (r) => ({ ...r, targets: await listTargets(id, bus, r.Name) })),
  )
}

/** An ARN's parts: `arn:aws:events:eu-west-1:222222222222:event-bus/central`. */
export function parseArn(arn: string) {
  const [, partition = '', service = '', region = '', account = '', ...rest] = arn.split(':')
  return { partition, service, region, account, resource: rest.join(':') }
}

/** The pattern as one reads it: indented, or the text as typed when it is not JSON. */
export function pretty(json: string | undefined): string {
  if (json === undefined) return ''
  try {
    return JSON.stringify(JSON.parse(json), null, 2)
  } catch {
    return json
  }
}

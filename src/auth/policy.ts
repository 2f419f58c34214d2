/**
 * @module
 * Bus policies (resource-based, IAM-style JSON): building statements for PutPermission, and the
 * one decision Junction enforces so far: may an account put events on a bus of another account?
 */

export type Statement = {
  Sid?: string
  Effect?: string
  Principal?: unknown
  Action?: unknown
  Resource?: unknown
  Condition?: unknown
}

export type PolicyDocument = { Version?: string; Statement?: Statement[] | Statement }

export function parsePolicy(text: string | undefined): PolicyDocument | undefined {
  if (text === undefined) return undefined
  try {
    const doc = JSON.parse(text) as unknown
    return doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? doc : undefined
  } catch {
    return undefined
  }
}

export function statements(doc: PolicyDocument | undefined): Statement[] {
  if (!doc?.Statement) return []
  return Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v])

function principalMatches(principal: unknown, account: string): boolean {
  if (principal === '*') return true
  if (principal !== null && typeof principal === 'object') {
    for (const p of asList((principal as { AWS?: unknown }).AWS)) {
      if (p === '*' || p === account || p === `arn:aws:iam::${account}:root`) return true
    }
  }
  return false
}

function actionMatches(action: unknown): boolean {
  return asList(action).some((a) => a === 'events:PutEvents' || a === 'events:*' || a === '*')
}

/**
 * Whether the bus's policy lets `account` call PutEvents on it. Statements with a Condition are
 * not evaluated yet (organisation ids are unknown here), so they do not grant anything; Deny
 * statements win.
 */
export function allowsPutEvents(policyText: string | undefined, account: string): boolean {
  let allowed = false
  for (const s of statements(parsePolicy(policyText))) {
    if (!principalMatches(s.Principal, account) || !actionMatches(s.Action)) continue
    if (s.Effect === 'Deny') return false
    if (s.Effect === 'Allow' && s.Condition === undefined) allowed = true
  }
  return allowed
}

/**
 * Whether a queue's policy lets EventBridge send it a rule's events: an Allow for
 * `sqs:SendMessage` to the `events.amazonaws.com` service (or the rule's account, or anyone),
 * whose conditions, if any, are on `aws:SourceArn` or `aws:SourceAccount` and hold for the rule.
 * Deny statements that match win.
 */
export function allowsQueueSend(
  policyText: string | undefined,
  rule: { arn: string; account: string },
): boolean {
  let allowed = false
  for (const s of statements(parsePolicy(policyText))) {
    if (!sendsToQueue(s.Action) || !eventBridgeIsPrincipal(s.Principal, rule.account)) continue
    if (!conditionsHold(s.Condition, rule)) continue
    if (s.Effect === 'Deny') return false
    if (s.Effect === 'Allow') allowed = true
  }
  return allowed
}

/** IAM action names are case-insensitive (AddPermission writes `SQS:SendMessage`). */
const sendsToQueue = (action: unknown) =>
  asList(action).some((a) => {
    const name = typeof a === 'string' ? a.toLowerCase() : ''
    return name === 'sqs:sendmessage' || name === 'sqs:*' || name === '*'
  })

function eventBridgeIsPrincipal(principal: unknown, account: string): boolean {
  if (principalMatches(principal, account)) return true
  if (principal === null || typeof principal !== 'object') return false
  return asList((principal as { Service?: unknown }).Service).includes('events.amazonaws.com')
}

function conditionsHold(condition: unknown, rule: { arn: string; account: string }): boolean {
  if (condition === undefined) return true
  if (condition === null || typeof condition !== 'object') return false
  const context: Record<string, string> = {
    'aws:sourcearn': rule.arn,
    'aws:sourceaccount': rule.account,
  }
  for (const [operator, tests] of Object.entries(condition as Record<string, unknown>)) {
    if (tests === null || typeof tests !== 'object') return false
    for (const [key, expected] of Object.entries(tests as Record<string, unknown>)) {
      const actual = context[key.toLowerCase()]
      if (actual === undefined) return false
      const values = asList(expected).map(String)
      const like = operator === 'ArnLike' || operator === 'StringLike'
      const equal = operator === 'ArnEquals' || operator === 'StringEquals'
      if (!like && !equal) return false
      if (!values.some((v) => (like ? globMatches(v, actual) : v === actual))) return false
    }
  }
  return true
}

function globMatches(pattern: string, text: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${re}$`).test(text)
}

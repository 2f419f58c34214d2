/**
 * @module
 * Resource policies (IAM-style JSON) of buses and queues, and the decisions Junction makes with
 * them: may an account put events on another account's bus, may a rule send to a queue.
 * Conditions are evaluated as IAM does for the keys Junction knows (`aws:PrincipalOrgID`,
 * `aws:PrincipalAccount`, `aws:SourceAccount`, `aws:SourceArn`), with the String and Arn
 * operators, their `ForAnyValue:`/`ForAllValues:` forms and `IfExists`; a condition on any other
 * key does not hold, so it grants nothing (and a Deny under it denies nothing).
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

/** Who asks: an account, and its organization when the credentials file names one. */
export type Principal = { account: string; organizationId?: string | undefined }

/**
 * Whether the bus's policy lets the principal call PutEvents on it: an Allow whose principal,
 * action and conditions all hold, and no such Deny (Deny wins).
 */
export function allowsPutEvents(policyText: string | undefined, who: Principal): boolean {
  return decidePutEvents(policyText, who).allowed
}

/** A policy's answer, and why, in words a denial message can carry. */
export type Decision = { allowed: boolean; why: string }

/**
 * The decision of {@link allowsPutEvents} with its reason: the statement that allowed or
 * denied, or that none allows (AWS's wording for the two denials, plus the statement's Sid).
 */
export function decidePutEvents(policyText: string | undefined, who: Principal): Decision {
  const context: Record<string, string | undefined> = {
    'aws:principalorgid': who.organizationId,
    'aws:principalaccount': who.account,
    'aws:sourceaccount': who.account,
  }
  return decide(
    policyText,
    'events:PutEvents',
    context,
    (s) => principalMatches(s.Principal, who.account) && actionMatches(s.Action),
  )
}

function decide(
  policyText: string | undefined,
  action: string,
  context: Record<string, string | undefined>,
  applies: (s: Statement) => boolean,
): Decision {
  let allowedBy: Statement | undefined
  let failedCondition: Statement | undefined
  for (const s of statements(parsePolicy(policyText))) {
    if (!applies(s)) continue
    if (!conditionsHold(s.Condition, context)) {
      if (s.Effect === 'Allow') failedCondition ??= s
      continue
    }
    if (s.Effect === 'Deny')
      return {
        allowed: false,
        why: `with an explicit deny in a resource-based policy (statement ${sid(s)})`,
      }
    if (s.Effect === 'Allow') allowedBy ??= s
  }
  if (allowedBy) return { allowed: true, why: `allowed by statement ${sid(allowedBy)}` }
  return {
    allowed: false,
    why:
      `because no resource-based policy allows the ${action} action` +
      (failedCondition
        ? ` (statement ${sid(failedCondition)} applies, but its Condition does not hold)`
        : policyText === undefined
          ? ' (the resource has no policy)'
          : ' (no statement names this principal and action)'),
  }
}

const sid = (s: Statement) =>
  typeof s.Sid === 'string' && s.Sid !== '' ? `"${s.Sid}"` : 'without Sid'

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
    if (
      !conditionsHold(s.Condition, { 'aws:sourcearn': rule.arn, 'aws:sourceaccount': rule.account })
    )
      continue
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

/**
 * Whether every test of a Condition block holds in `context` (keys lower-case). IAM's rules:
 * every operator and every key must hold; a key's values are alternatives; a key absent from the
 * context fails the test, except under `…IfExists` and `ForAllValues:` (which hold vacuously).
 */
function conditionsHold(condition: unknown, context: Record<string, string | undefined>): boolean {
  if (condition === undefined) return true
  if (condition === null || typeof condition !== 'object') return false
  for (const [rawOperator, tests] of Object.entries(condition as Record<string, unknown>)) {
    if (tests === null || typeof tests !== 'object') return false
    let operator = rawOperator
    let set: 'any' | 'all' | undefined
    if (operator.startsWith('ForAnyValue:')) set = 'any'
    else if (operator.startsWith('ForAllValues:')) set = 'all'
    if (set) operator = operator.slice(operator.indexOf(':') + 1)
    const ifExists = operator.endsWith('IfExists')
    if (ifExists) operator = operator.slice(0, -'IfExists'.length)
    const test = OPERATORS[operator]
    if (!test) return false
    for (const [key, expected] of Object.entries(tests as Record<string, unknown>)) {
      const actual = context[key.toLowerCase()]
      if (actual === undefined) {
        if (ifExists || set === 'all') continue
        return false
      }
      if (!test(asList(expected).map(String), actual)) return false
    }
  }
  return true
}

/** Condition operators over one value: does `actual` satisfy the alternatives `values`? */
const OPERATORS: Record<string, (values: string[], actual: string) => boolean> = {
  StringEquals: (vs, a) => vs.includes(a),
  StringNotEquals: (vs, a) => !vs.includes(a),
  StringEqualsIgnoreCase: (vs, a) => vs.some((v) => v.toLowerCase() === a.toLowerCase()),
  StringNotEqualsIgnoreCase: (vs, a) => !vs.some((v) => v.toLowerCase() === a.toLowerCase()),
  StringLike: (vs, a) => vs.some((v) => globMatches(v, a)),
  StringNotLike: (vs, a) => !vs.some((v) => globMatches(v, a)),
  ArnEquals: (vs, a) => vs.includes(a),
  ArnNotEquals: (vs, a) => !vs.includes(a),
  ArnLike: (vs, a) => vs.some((v) => globMatches(v, a)),
  ArnNotLike: (vs, a) => !vs.some((v) => globMatches(v, a)),
}

function globMatches(pattern: string, text: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${re}$`).test(text)
}

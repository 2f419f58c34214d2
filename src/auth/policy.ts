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

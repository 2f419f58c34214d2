/**
 * @module
 * AddPermission and RemovePermission as edits of a queue's `Policy` document: a statement per
 * label, the document created in SQS's default shape when the queue has none. Both engines
 * store the result as the queue's Policy attribute.
 */
import { invalidParameter } from './errors.js'
import type { QueueRef } from './service.js'

export type PolicyDoc = { Version?: string; Id?: string; Statement: Record<string, unknown>[] }

/** The queue's Policy as a document to add to; a new one in SQS's default shape if none. */
export function queuePolicy(q: QueueRef): PolicyDoc {
  const text = q.record.attributes.Policy
  if (text) {
    const doc = JSON.parse(text) as { Statement?: unknown }
    const statements = Array.isArray(doc.Statement)
      ? (doc.Statement as Record<string, unknown>[])
      : doc.Statement && typeof doc.Statement === 'object'
        ? [doc.Statement as Record<string, unknown>]
        : []
    return { ...doc, Statement: statements }
  }
  return { Version: '2012-10-17', Id: `${q.arn}/SQSDefaultPolicy`, Statement: [] }
}

/** The policy with a statement letting `accounts` call `actions`, named by `label`. */
export function withStatement(
  q: QueueRef,
  label: string,
  accounts: string[],
  actions: string[],
): PolicyDoc {
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(label))
    throw invalidParameter(
      `Value ${label} for parameter Label is invalid. Reason: Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length.`,
    )
  const policy = queuePolicy(q)
  if (policy.Statement.some((st) => st.Sid === label))
    throw invalidParameter(`Value ${label} for parameter Label is invalid. Reason: Already exists.`)
  policy.Statement.push({
    Sid: label,
    Effect: 'Allow',
    Principal: { AWS: accounts.map((a) => (/^\d{12}$/.test(a) ? `arn:aws:iam::${a}:root` : a)) },
    Action: actions.map((a) => (a === '*' ? 'SQS:*' : `SQS:${a}`)),
    Resource: q.arn,
  })
  return policy
}

/** The policy without the statement named `label`; undefined when none is left. */
export function withoutStatement(q: QueueRef, label: string): PolicyDoc | undefined {
  const policy = queuePolicy(q)
  const kept = policy.Statement.filter((st) => st.Sid !== label)
  if (kept.length === policy.Statement.length)
    throw invalidParameter(
      `Value ${label} for parameter Label is invalid. Reason: can't find label on existing policy.`,
    )
  return kept.length > 0 ? { ...policy, Statement: kept } : undefined
}

/** The attributes with `policy` as their Policy (none: without one). */
export function withPolicy(
  attributes: Record<string, string>,
  policy: PolicyDoc | undefined,
): Record<string, string> {
  const next = Object.fromEntries(Object.entries(attributes).filter(([k]) => k !== 'Policy'))
  if (policy) next.Policy = JSON.stringify(policy)
  return next
}

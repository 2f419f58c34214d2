/**
 * @module
 * `junction explain-access --policy P --principal ACCOUNT [--organization o-…] [--resource ARN]`:
 * would this bus policy let that account call events:PutEvents, and why? The same decision the
 * server makes (`auth/policy.ts`), offline. Exit 0 when allowed, 1 when denied, 2 when the input
 * is not usable.
 */
import { decidePutEvents, parsePolicy } from '../../auth/policy.js'
import { textArgument } from './test-pattern.js'

export type ExplainAccessOptions = {
  policy: string
  principal: string
  organization?: string
  action?: string
  resource?: string
}

export function explainAccess(
  options: ExplainAccessOptions,
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  err: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): number {
  const action = options.action ?? 'events:PutEvents'
  if (action !== 'events:PutEvents') {
    err(`only events:PutEvents is explained so far (asked: ${action})`)
    return 2
  }
  if (!/^\d{12}$/.test(options.principal)) {
    err(`--principal must be a 12-digit account (asked: ${options.principal})`)
    return 2
  }
  const policy = textArgument(options.policy)
  if (parsePolicy(policy) === undefined) {
    err('--policy is not a JSON policy document')
    return 2
  }
  const d = decidePutEvents(policy, {
    account: options.principal,
    organizationId: options.organization,
  })
  const resource = options.resource ?? 'the bus'
  out(
    d.allowed
      ? `ALLOWED: account ${options.principal} may perform events:PutEvents on ${resource}: ${d.why}`
      : `DENIED: Account ${options.principal} is not authorized to perform: events:PutEvents on resource: ${resource} ${d.why}`,
  )
  return d.allowed ? 0 : 1
}

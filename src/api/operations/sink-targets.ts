/**
 * @module
 * PutTargets' checks of a sink target (a Junction extension, see docs/sinks.md): the sink must
 * exist, in the rule's account and region.
 */
import { BusError, invalid } from '../../errors.js'
import type { Rule, Target } from '../../model.js'
import { isSinkArn } from '../../sink/model.js'
import type { RequestContext } from '../context.js'

export function checkSinkTargets(ctx: RequestContext, rule: Rule, targets: Target[]): void {
  for (const t of targets) {
    if (!isSinkArn(t.arn)) continue
    const name = t.arn.slice(t.arn.indexOf(':junction-sink/') + ':junction-sink/'.length)
    const [, , , region, account] = t.arn.split(':')
    if (account !== rule.account || region !== rule.region)
      throw invalid(
        `Target ${t.id}: the sink ${t.arn} is not in the rule's account and region (${rule.account}, ${rule.region}).`,
      )
    if (!ctx.services.sinks?.byArn(t.arn))
      throw new BusError(
        'ResourceNotFoundException',
        `Sink ${name} does not exist in account ${rule.account}, region ${rule.region} (target ${t.id}).`,
      )
  }
}

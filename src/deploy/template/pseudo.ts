/**
 * @module
 * CloudFormation's pseudo parameters for a stack. AWS::NoValue is not here: it is no value at
 * all, and the evaluator removes what holds it.
 */
import { createHash } from 'node:crypto'

export type StackIdentity = { stackName: string; account: string; region: string }

export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn'
  if (region.startsWith('us-gov-')) return 'aws-us-gov'
  return 'aws'
}

/**
 * The stack id: CloudFormation's ARN form, its id part a UUID derived from the stack's name,
 * account and region, so it stays the same from one deploy of the stack to the next.
 */
export function stackId({ stackName, account, region }: StackIdentity): string {
  const h = createHash('sha256').update(`${account}/${region}/${stackName}`).digest('hex')
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
  return `arn:${partitionOf(region)}:cloudformation:${region}:${account}:stack/${stackName}/${uuid}`
}

export function pseudoParameters(stack: StackIdentity): Record<string, unknown> {
  return {
    'AWS::AccountId': stack.account,
    'AWS::Region': stack.region,
    'AWS::Partition': partitionOf(stack.region),
    'AWS::StackName': stack.stackName,
    'AWS::StackId': stackId(stack),
    'AWS::URLSuffix': stack.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com',
    'AWS::NotificationARNs': [],
  }
}

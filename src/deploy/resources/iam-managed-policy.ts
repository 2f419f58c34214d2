/**
 * @module
 * AWS::IAM::ManagedPolicy, accepted and recorded only (see `iam-role.ts`).
 * `ManagedPolicyName` is optional (generated, 128 characters); `Ref` and `Fn::GetAtt PolicyArn`
 * are `arn:aws:iam::ACCOUNT:policy/PATH/NAME`; `PolicyId` is `ANPA…`, stable for the name.
 */
import type { ProvisionContext, Provisioner, ResourceCreated } from '../model.js'
import { iamId, iamPath } from './iam-id.js'
import { PropReader, settle, type Props } from './resource-props.js'

const TYPE = 'AWS::IAM::ManagedPolicy'

function record(ctx: ProvisionContext, props: Props, keepName?: string): ResourceCreated {
  const p = new PropReader(ctx, TYPE, props)
  p.required('PolicyDocument')
  for (const l of ['Roles', 'Users', 'Groups']) p.stringList(l)
  const path = iamPath(p.string('Path'))
  if (path === undefined)
    throw p.error(`Path must begin and end with /: ${String(p.string('Path'))}`)
  const name = p.string('ManagedPolicyName') ?? keepName ?? ctx.generatedName(128)
  const arn = `arn:aws:iam::${ctx.account}:policy${path}${name}`
  return {
    physicalId: arn,
    attributes: {
      PolicyArn: arn,
      PolicyId: iamId('ANPA', ctx.account, `policy/${name}`),
      DefaultVersionId: 'v1',
      IsAttachable: true,
    },
  }
}

export const iamManagedPolicy: Provisioner = {
  type: TYPE,
  properties: [
    'ManagedPolicyName',
    'PolicyDocument',
    'Path',
    'Description',
    'Roles',
    'Users',
    'Groups',
  ],
  create: (ctx, props) => settle(() => record(ctx, props)),
  update(ctx, current, before, after) {
    const generated =
      before.ManagedPolicyName === undefined && after.ManagedPolicyName === undefined
    const oldName = current.physicalId.slice(current.physicalId.lastIndexOf('/') + 1)
    return settle(() => record(ctx, after, generated ? oldName : undefined))
  },
  delete: () => Promise.resolve(),
}

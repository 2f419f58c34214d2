/**
 * @module
 * AWS::IAM::Role, accepted and recorded only: Junction's authorization is by account (and by
 * resource policies), not by IAM roles, so no server call is made. `RoleName` is optional
 * (generated, 64 characters); `Ref` is the name; `Fn::GetAtt` gives `Arn`
 * (`arn:aws:iam::ACCOUNT:role/PATH/NAME`) and `RoleId` (`AROA…`, stable for the name).
 */
import type { ProvisionContext, Provisioner, ResourceCreated } from '../model.js'
import { iamId, iamPath } from './iam-id.js'
import { PropReader, settle, type Props } from './resource-props.js'

const TYPE = 'AWS::IAM::Role'

function record(ctx: ProvisionContext, props: Props, keepName?: string): ResourceCreated {
  const p = new PropReader(ctx, TYPE, props)
  const document = p.required('AssumeRolePolicyDocument')
  if (typeof document !== 'object' && typeof document !== 'string')
    throw p.error('AssumeRolePolicyDocument must be a policy document')
  const path = iamPath(p.string('Path'))
  if (path === undefined)
    throw p.error(`Path must begin and end with /: ${String(p.string('Path'))}`)
  for (const l of ['Policies', 'ManagedPolicyArns'] as const) p.list(l)
  const duration = p.number('MaxSessionDuration')
  if (duration !== undefined && (duration < 3600 || duration > 43200))
    throw p.error('MaxSessionDuration must be 3600 to 43200 seconds')
  const name = p.string('RoleName') ?? keepName ?? ctx.generatedName(64)
  return {
    physicalId: name,
    attributes: {
      Arn: `arn:aws:iam::${ctx.account}:role${path}${name}`,
      RoleId: iamId('AROA', ctx.account, `role/${name}`),
    },
  }
}

export const iamRole: Provisioner = {
  type: TYPE,
  properties: [
    'RoleName',
    'AssumeRolePolicyDocument',
    'Policies',
    'ManagedPolicyArns',
    'Path',
    'Description',
    'MaxSessionDuration',
    'Tags',
    'PermissionsBoundary',
  ],
  create: (ctx, props) => settle(() => record(ctx, props)),
  // A generated name stays the role's name across updates.
  update: (ctx, current, before, after) =>
    settle(() =>
      record(
        ctx,
        after,
        before.RoleName === undefined && after.RoleName === undefined
          ? current.physicalId
          : undefined,
      ),
    ),
  delete: () => Promise.resolve(),
}

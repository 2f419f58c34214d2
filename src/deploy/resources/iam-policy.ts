/**
 * @module
 * AWS::IAM::Policy (an inline policy of roles, users or groups), accepted and recorded only (see
 * `iam-role.ts`). `Ref` and `Fn::GetAtt Id` are a generated id, as CloudFormation's.
 */
import type { ProvisionContext, Provisioner, ResourceCreated } from '../model.js'
import { PropReader, settle, type Props } from './resource-props.js'

const TYPE = 'AWS::IAM::Policy'

function check(ctx: ProvisionContext, props: Props): void {
  const p = new PropReader(ctx, TYPE, props)
  p.requiredString('PolicyName')
  p.required('PolicyDocument')
  for (const l of ['Roles', 'Users', 'Groups']) p.stringList(l)
}

export const iamPolicy: Provisioner = {
  type: TYPE,
  properties: ['PolicyName', 'PolicyDocument', 'Roles', 'Users', 'Groups'],
  create: (ctx, props) =>
    settle((): ResourceCreated => {
      check(ctx, props)
      const id = ctx.generatedName(128)
      return { physicalId: id, attributes: { Id: id } }
    }),
  update: (ctx, current, _before, after) =>
    settle(() => {
      check(ctx, after)
      return current
    }),
  delete: () => Promise.resolve(),
}

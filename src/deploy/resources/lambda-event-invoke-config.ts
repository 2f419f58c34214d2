/**
 * @module
 * AWS::Lambda::EventInvokeConfig through Put/DeleteFunctionEventInvokeConfig: retries, event age
 * and destinations of asynchronous invocations. `Ref` is `FUNCTION|QUALIFIER`. A new
 * `FunctionName` or `Qualifier` replaces it.
 */
import {
  DeleteFunctionEventInvokeConfigCommand,
  PutFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda'
import type { ProvisionContext, Provisioner, ResourceCreated } from '../model.js'
import { changed, ignoreNotFound, PropReader, type Props } from './resource-props.js'

const TYPE = 'AWS::Lambda::EventInvokeConfig'

function destination(p: PropReader, config: Props | undefined, which: string) {
  const d = config?.[which] as { Destination?: unknown } | undefined
  if (d === undefined) return {}
  if (typeof d.Destination !== 'string')
    throw p.error(`DestinationConfig.${which}.Destination must be an ARN`)
  return { [which]: { Destination: d.Destination } }
}

async function put(ctx: ProvisionContext, props: Props): Promise<ResourceCreated> {
  const p = new PropReader(ctx, TYPE, props)
  const fn = p.requiredString('FunctionName')
  const qualifier = p.requiredString('Qualifier')
  const config = p.object('DestinationConfig')
  const retries = p.number('MaximumRetryAttempts')
  const age = p.number('MaximumEventAgeInSeconds')
  await ctx.clients.lambda.send(
    new PutFunctionEventInvokeConfigCommand({
      FunctionName: fn,
      Qualifier: qualifier,
      ...(retries === undefined ? {} : { MaximumRetryAttempts: retries }),
      ...(age === undefined ? {} : { MaximumEventAgeInSeconds: age }),
      ...(config === undefined
        ? {}
        : {
            DestinationConfig: {
              ...destination(p, config, 'OnSuccess'),
              ...destination(p, config, 'OnFailure'),
            },
          }),
    }),
  )
  return { physicalId: `${fn}|${qualifier}`, attributes: {} }
}

async function remove(ctx: ProvisionContext, props: Props): Promise<void> {
  const p = new PropReader(ctx, TYPE, props)
  const fn = p.string('FunctionName')
  if (fn === undefined) return
  await ignoreNotFound(
    ctx.clients.lambda.send(
      new DeleteFunctionEventInvokeConfigCommand({
        FunctionName: fn,
        ...(p.has('Qualifier') ? { Qualifier: p.string('Qualifier')! } : {}),
      }),
    ),
  )
}

export const lambdaEventInvokeConfig: Provisioner = {
  type: TYPE,
  properties: [
    'FunctionName',
    'Qualifier',
    'MaximumRetryAttempts',
    'MaximumEventAgeInSeconds',
    'DestinationConfig',
  ],
  create: put,
  async update(ctx, _current, before, after) {
    if (changed(before, after, ['FunctionName', 'Qualifier'])) {
      const next = await put(ctx, after)
      await remove(ctx, before)
      return next
    }
    return put(ctx, after)
  },
  delete: (ctx, _current, props) => remove(ctx, props),
}

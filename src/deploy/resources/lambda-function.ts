/**
 * @module
 * AWS::Lambda::Function through CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration,
 * Put/DeleteFunctionConcurrency, TagResource/UntagResource and DeleteFunction. `Ref` is the
 * function name; `Fn::GetAtt` gives `Arn` (and `CodeSha256`, the code's fingerprint, which the
 * update compares; see {@link lambdaCodeChanged}). Code: see `local-code.ts`. A new
 * `FunctionName` replaces the function.
 *
 * Accepted and recorded without effect (nothing to do on one machine): `Architectures`,
 * `EphemeralStorage`, `TracingConfig`, `KmsKeyArn`, `LoggingConfig`, `VpcConfig`,
 * `RecursiveLoop`. Refused with a reason: `Layers`, `PackageType: Image`.
 */
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  PutFunctionConcurrencyCommand,
  type Runtime,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda'
import type { ProvisionContext, Provisioner, ResourceCreated } from '../model.js'
import { codeFingerprint, functionCode, type FunctionCode } from './local-code.js'
import { changed, ignoreNotFound, PropReader, type Props } from './resource-props.js'

const TYPE = 'AWS::Lambda::Function'
const ROLE = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/
const CONFIGURATION = [
  'Runtime',
  'Handler',
  'Role',
  'MemorySize',
  'Timeout',
  'Environment',
  'Description',
  'DeadLetterConfig',
] as const
const RECORDED = [
  'Architectures',
  'EphemeralStorage',
  'TracingConfig',
  'KmsKeyArn',
  'LoggingConfig',
  'VpcConfig',
  'RecursiveLoop',
] as const

function reader(ctx: ProvisionContext, props: Props): PropReader {
  const p = new PropReader(ctx, TYPE, props)
  p.refuse('Layers', 'layers are not built in Junction; bundle the code with the function')
  const packageType = p.string('PackageType')
  if (packageType !== undefined && packageType !== 'Zip')
    throw p.error(
      `PackageType ${packageType} is not supported: only Zip (container images do not run here)`,
    )
  return p
}

/** The Role passed to Lambda: the template's when it is an IAM role ARN, else a stand-in. */
function role(p: PropReader): string {
  const given = p.requiredString('Role')
  return ROLE.test(given) ? given : `arn:aws:iam::${p.ctx.account}:role/junction-deploy-any-role`
}

function configuration(p: PropReader) {
  const env = p.object('Environment')
  const variables = env?.Variables
  if (variables !== undefined && (variables === null || typeof variables !== 'object'))
    throw p.error('Environment.Variables must be an object')
  const vars: Record<string, string> = {}
  for (const [k, v] of Object.entries((variables ?? {}) as Props)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      throw p.error(`Environment.Variables.${k} must be a string`)
    vars[k] = String(v)
  }
  const dlc = p.object('DeadLetterConfig')
  return {
    Runtime: p.string('Runtime') as Runtime | undefined,
    Handler: p.string('Handler'),
    Role: role(p),
    MemorySize: p.number('MemorySize') ?? 128,
    Timeout: p.number('Timeout') ?? 3,
    Description: p.string('Description') ?? '',
    Environment: { Variables: vars },
    DeadLetterConfig: { TargetArn: typeof dlc?.TargetArn === 'string' ? dlc.TargetArn : '' },
  }
}

function arnOf(ctx: ProvisionContext, name: string): string {
  return `arn:aws:lambda:${ctx.region}:${ctx.account}:function:${name}`
}

async function create(ctx: ProvisionContext, props: Props): Promise<ResourceCreated> {
  const p = reader(ctx, props)
  const name = p.string('FunctionName') ?? ctx.generatedName(64)
  const config = configuration(p)
  const code = await functionCode(p, ctx.baseDir, config.Runtime, p.required('Code'))
  const tags = p.tags()
  const out = await ctx.clients.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      ...config,
      DeadLetterConfig:
        config.DeadLetterConfig.TargetArn === '' ? undefined : config.DeadLetterConfig,
      Code: wireCode(code),
      ...(Object.keys(tags).length > 0 ? { Tags: tags } : {}),
    }),
  )
  const reserved = p.number('ReservedConcurrentExecutions')
  if (reserved !== undefined)
    await ctx.clients.lambda.send(
      new PutFunctionConcurrencyCommand({
        FunctionName: name,
        ReservedConcurrentExecutions: reserved,
      }),
    )
  return created(ctx, name, out.CodeSha256 ?? (await codeFingerprint(code)), p)
}

function created(ctx: ProvisionContext, name: string, sha: string, p: PropReader): ResourceCreated {
  const recorded: Props = {}
  for (const r of RECORDED) if (p.has(r)) recorded[r] = p.props[r]
  return { physicalId: name, attributes: { Arn: arnOf(ctx, name), CodeSha256: sha, ...recorded } }
}

function wireCode(code: FunctionCode) {
  return code.kind === 'zip'
    ? { ZipFile: code.ZipFile }
    : { S3Bucket: code.S3Bucket, S3Key: code.S3Key }
}

/**
 * Whether the function's code differs from what was deployed: a new `Code` value, or the same
 * path whose zip or directory now hashes differently from the recorded `CodeSha256`. The
 * orchestrator may call it for a function whose properties compare equal.
 */
export async function lambdaCodeChanged(
  ctx: ProvisionContext,
  current: ResourceCreated,
  props: Props,
): Promise<boolean> {
  const p = reader(ctx, props)
  const code = await functionCode(p, ctx.baseDir, p.string('Runtime'), p.required('Code'))
  return (await codeFingerprint(code)) !== current.attributes.CodeSha256
}

async function update(
  ctx: ProvisionContext,
  current: ResourceCreated,
  before: Props,
  after: Props,
): Promise<ResourceCreated> {
  if (changed(before, after, ['FunctionName'])) {
    const next = await create(ctx, after)
    await remove(ctx, current)
    return next
  }
  const p = reader(ctx, after)
  const name = current.physicalId
  const lambda = ctx.clients.lambda
  const config = configuration(p)
  if (changed(before, after, CONFIGURATION))
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, ...config }))
  const code = await functionCode(p, ctx.baseDir, config.Runtime, p.required('Code'))
  let sha = String(current.attributes.CodeSha256)
  if (changed(before, after, ['Code']) || (await codeFingerprint(code)) !== sha) {
    const out = await lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: name, ...wireCode(code) }),
    )
    sha = out.CodeSha256 ?? (await codeFingerprint(code))
  }
  if (changed(before, after, ['ReservedConcurrentExecutions'])) {
    const reserved = p.number('ReservedConcurrentExecutions')
    if (reserved === undefined)
      await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: name }))
    else
      await lambda.send(
        new PutFunctionConcurrencyCommand({
          FunctionName: name,
          ReservedConcurrentExecutions: reserved,
        }),
      )
  }
  if (changed(before, after, ['Tags'])) {
    const old = new PropReader(ctx, TYPE, before).tags()
    const tags = p.tags()
    const gone = Object.keys(old).filter((k) => !(k in tags))
    const arn = arnOf(ctx, name)
    if (gone.length > 0)
      await lambda.send(new UntagResourceCommand({ Resource: arn, TagKeys: gone }))
    if (Object.keys(tags).length > 0)
      await lambda.send(new TagResourceCommand({ Resource: arn, Tags: tags }))
  }
  return created(ctx, name, sha, p)
}

async function remove(ctx: ProvisionContext, current: ResourceCreated): Promise<void> {
  await ignoreNotFound(
    ctx.clients.lambda.send(new DeleteFunctionCommand({ FunctionName: current.physicalId })),
  )
}

export const lambdaFunction: Provisioner = {
  type: TYPE,
  changedOutside: lambdaCodeChanged,
  properties: [
    'FunctionName',
    'Code',
    ...CONFIGURATION,
    'ReservedConcurrentExecutions',
    'Tags',
    'Layers',
    'PackageType',
    ...RECORDED,
  ],
  create,
  update,
  delete: (ctx, current) => remove(ctx, current),
}

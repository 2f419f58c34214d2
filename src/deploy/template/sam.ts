/**
 * @module
 * The SAM transform (`Transform: AWS::Serverless-2016-10-31`) for AWS::Serverless::Function:
 * Globals merged in, the function turned into an AWS::Lambda::Function with the same logical id,
 * plus what SAM generates beside it (its role, its events' resources, its EventInvokeConfig),
 * each given the function's line and Condition.
 */
import { TemplateError } from '../model.js'
import { define, type Lines } from './parse.js'
import { functionGlobals, mergeGlobals } from './sam-globals.js'
import { transformEvent } from './sam-events.js'
import { functionRole } from './sam-role.js'
import { checkKeys, compact, getAtt, type Generate } from './sam-support.js'
import { isRecord } from './template.js'

export const SAM_TRANSFORM = 'AWS::Serverless-2016-10-31'
const TRANSFORMS = [SAM_TRANSFORM, 'AWS::LanguageExtensions']
const SAM_TYPES = ['AWS::Serverless::Function']

/** Lambda's own properties, passed through as they are. */
const LAMBDA_PROPERTIES = [
  'FunctionName',
  'Handler',
  'Runtime',
  'MemorySize',
  'Timeout',
  'Environment',
  'Description',
  'Architectures',
  'ReservedConcurrentExecutions',
  'EphemeralStorage',
  'Layers',
  'KmsKeyArn',
  'VpcConfig',
  'LoggingConfig',
  'PackageType',
  'ImageConfig',
  'FileSystemConfigs',
  'CodeSigningConfigArn',
  'RuntimeManagementConfig',
  'SnapStartConfig',
  'RecursiveLoop',
]
const SAM_PROPERTIES = [
  'CodeUri',
  'InlineCode',
  'ImageUri',
  'Tags',
  'Tracing',
  'DeadLetterQueue',
  'Role',
  'Policies',
  'AssumeRolePolicyDocument',
  'PermissionsBoundary',
  'RolePath',
  'Events',
  'EventInvokeConfig',
]
const FUNCTION_PROPERTIES = [...LAMBDA_PROPERTIES, ...SAM_PROPERTIES]
/** What SAM lets Globals set: not the function's name, inline code, role, policies or events. */
const GLOBAL_PROPERTIES = FUNCTION_PROPERTIES.filter(
  (k) => !['FunctionName', 'InlineCode', 'ImageUri', 'Role', 'Policies', 'Events'].includes(k),
)

function transformNames(value: unknown, lines: Lines, body: object): string[] {
  if (value === undefined) return []
  const names = Array.isArray(value) ? value : [value]
  return names.map((name: unknown) => {
    if (typeof name !== 'string' || !TRANSFORMS.includes(name)) {
      const shown = typeof name === 'string' ? name : JSON.stringify(name)
      throw new TemplateError(
        `Transform ${shown} is not supported; the supported transforms are ${TRANSFORMS.join(', ')}`,
        lines.key(body, 'Transform'),
      )
    }
    return name
  })
}

/** Applies the template's transforms to the parsed body, in place. */
export function applyTransforms(body: unknown, lines: Lines): void {
  if (!isRecord(body)) return
  const sam = transformNames(body.Transform, lines, body).includes(SAM_TRANSFORM)
  const resources = isRecord(body.Resources) ? body.Resources : {}
  if (!sam) {
    const needs = Object.entries(resources).find(
      ([, r]) => isRecord(r) && String(r.Type).startsWith('AWS::Serverless::'),
    )
    if (body.Globals !== undefined || needs !== undefined) {
      throw new TemplateError(
        `${needs === undefined ? 'Globals' : `${needs[0]} (${String((needs[1] as Record<string, unknown>).Type)})`} needs Transform: ${SAM_TRANSFORM}`,
        needs === undefined ? lines.key(body, 'Globals') : lines.keyLine(resources, needs[0]),
      )
    }
    return
  }
  const globals = functionGlobals(body, lines, GLOBAL_PROPERTIES)
  const out: Record<string, unknown> = {}
  lines.set(out, lines.of(resources))
  const add = (id: string, resource: unknown, line: number | undefined) => {
    if (Object.hasOwn(out, id))
      throw new TemplateError(`SAM would generate ${id}, which the template already has`, line)
    define(out, id, resource)
    if (line !== undefined) lines.setKey(out, id, line)
  }
  for (const [id, resource] of Object.entries(resources)) {
    const type = isRecord(resource) ? resource.Type : undefined
    const line = lines.keyLine(resources, id) ?? lines.of(resource)
    if (type === 'AWS::Serverless::Function' && isRecord(resource)) {
      for (const [gid, generated] of transformFunction(id, resource, globals, lines, line)) {
        add(gid, generated, line)
      }
    } else if (typeof type === 'string' && type.startsWith('AWS::Serverless::')) {
      throw new TemplateError(
        `${id}: resource type ${type} is not supported; the supported SAM resource types are ${SAM_TYPES.join(', ')}`,
        line,
      )
    } else add(id, resource, line)
  }
  body.Resources = out
  delete body.Globals
}

function code(id: string, p: Record<string, unknown>, line: number | undefined): unknown {
  if (p.InlineCode !== undefined && p.CodeUri !== undefined) {
    throw new TemplateError(`${id}: Only one of 'InlineCode' or 'CodeUri' can be set.`, line)
  }
  if (p.InlineCode !== undefined) return { ZipFile: p.InlineCode }
  if (p.ImageUri !== undefined) return { ImageUri: p.ImageUri }
  const uri = p.CodeUri
  if (typeof uri === 'string') {
    const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri)
    return s3 === null ? uri : { S3Bucket: s3[1], S3Key: s3[2] }
  }
  if (isRecord(uri)) {
    const { Bucket, Key, Version } = checkKeys(
      uri,
      ['Bucket', 'Key', 'Version'],
      `${id}: CodeUri`,
      line,
    )
    return compact({ S3Bucket: Bucket, S3Key: Key, S3ObjectVersion: Version })
  }
  throw new TemplateError(`${id}: Either 'InlineCode' or 'CodeUri' must be set.`, line)
}

function tags(id: string, given: unknown, line: number | undefined): unknown[] {
  const own = checkKeys(given, Object.keys(isRecord(given) ? given : {}), `${id}: Tags`, line)
  return [
    { Key: 'lambda:createdBy', Value: 'SAM' },
    ...Object.entries(own).map(([Key, Value]) => ({ Key, Value })),
  ]
}

function destination(id: string, given: unknown, line: number | undefined): unknown {
  if (given === undefined) return undefined
  const d = checkKeys(given, ['Type', 'Destination'], `${id}: EventInvokeConfig destination`, line)
  if (d.Destination === undefined) {
    throw new TemplateError(
      `${id}: EventInvokeConfig destination needs a Destination (an ARN)`,
      line,
    )
  }
  return { Destination: d.Destination }
}

/** The AWS::Lambda::Function properties of a SAM function. */
function lambdaProperties(
  id: string,
  props: Record<string, unknown>,
  lines: Lines,
  line: number | undefined,
): Record<string, unknown> {
  const fn: Record<string, unknown> = {}
  for (const k of LAMBDA_PROPERTIES) {
    if (props[k] === undefined) continue
    define(fn, k, props[k])
    const keyLine = lines.keyLine(props, k)
    if (keyLine !== undefined) lines.setKey(fn, k, keyLine)
  }
  fn.Code = code(id, props, line)
  if (props.ImageUri !== undefined && fn.PackageType === undefined) fn.PackageType = 'Image'
  if (props.Tracing !== undefined) fn.TracingConfig = { Mode: props.Tracing }
  if (props.DeadLetterQueue !== undefined) {
    const where = `${id}: DeadLetterQueue`
    const dlq = checkKeys(props.DeadLetterQueue, ['Type', 'TargetArn'], where, line)
    fn.DeadLetterConfig = { TargetArn: dlq.TargetArn }
  }
  fn.Tags = tags(id, props.Tags, line)
  fn.Role = props.Role ?? getAtt(`${id}Role`, 'Arn')
  lines.set(fn, line)
  return fn
}

/** The AWS::Lambda::EventInvokeConfig properties of a SAM function's EventInvokeConfig. */
function invokeConfig(id: string, given: unknown, line: number | undefined) {
  const keys = ['MaximumEventAgeInSeconds', 'MaximumRetryAttempts', 'DestinationConfig']
  const c = checkKeys(given, keys, `${id}: EventInvokeConfig`, line)
  const where = `${id}: EventInvokeConfig.DestinationConfig`
  const dc = checkKeys(c.DestinationConfig, ['OnSuccess', 'OnFailure'], where, line)
  const destinations = compact({
    OnSuccess: destination(id, dc.OnSuccess, line),
    OnFailure: destination(id, dc.OnFailure, line),
  })
  return compact({
    FunctionName: { Ref: id },
    Qualifier: '$LATEST',
    MaximumEventAgeInSeconds: c.MaximumEventAgeInSeconds,
    MaximumRetryAttempts: c.MaximumRetryAttempts,
    DestinationConfig: Object.keys(destinations).length > 0 ? destinations : undefined,
  })
}

/** The function and what SAM generates for it: its role first, then the rest. */
function transformFunction(
  id: string,
  resource: Record<string, unknown>,
  globals: Record<string, unknown>,
  lines: Lines,
  line: number | undefined,
): [string, Record<string, unknown>][] {
  const where = `${id} (AWS::Serverless::Function)`
  const merged = mergeGlobals(globals, resource.Properties ?? {}, lines)
  const props = checkKeys(merged, FUNCTION_PROPERTIES, where, line)
  const fn = {
    ...resource,
    Type: 'AWS::Lambda::Function',
    Properties: lambdaProperties(id, props, lines, line),
  }
  lines.set(fn, line)
  const generated: [string, Record<string, unknown>][] = []
  const generate: Generate = (logicalId, type, properties) => {
    const r = compact({ Type: type, Properties: properties, Condition: resource.Condition })
    lines.set(r, line)
    generated.push([logicalId, r])
  }
  let pollsSqs = false
  const events = isRecord(props.Events) ? props.Events : {}
  if (props.Events !== undefined && !isRecord(props.Events)) {
    throw new TemplateError(`${id}: Events must be a mapping`, line)
  }
  for (const [eventId, event] of Object.entries(events)) {
    transformEvent(eventId, event, { fnId: id, line, generate, pollsSqs: () => (pollsSqs = true) })
  }
  if (props.EventInvokeConfig !== undefined) {
    generate(
      `${id}EventInvokeConfig`,
      'AWS::Lambda::EventInvokeConfig',
      invokeConfig(id, props.EventInvokeConfig, line),
    )
  }
  if (props.Role !== undefined) return [[id, fn], ...generated]
  const tagList = tags(id, props.Tags, line)
  const role = functionRole({ fnId: id, props, tags: tagList, pollsSqs, line })
  generate(`${id}Role`, 'AWS::IAM::Role', role)
  return [[id, fn], generated.pop()!, ...generated]
}

/**
 * @module
 * What a target receives for a matched event.
 */
import { parsePath, selectNodes } from './json-path.js'
import { rawJson, type RawJson, type RawNode } from './raw-json.js'
import {
  fillTemplate,
  jsonRendering,
  MISSING,
  PREDEFINED_VARIABLES,
  stringRendering,
  type Rendering,
} from './template.js'
import type { EventInput, InputTransformer, RuleContext, TargetInput } from './types.js'

/**
 * The body the target receives, byte for byte, or `null` when AWS delivers nothing (a JSON
 * template that does not come out as JSON).
 */
export function renderInput(
  input: TargetInput,
  event: EventInput,
  context: RuleContext,
): string | null {
  switch (input.kind) {
    case 'event':
      return event.text
    case 'constant':
      return input.input
    case 'path':
      return renderPath(input.inputPath, rawJson(event.text))
    case 'transformer':
      return renderTransformer(input.transformer, rawJson(event.text), context)
  }
}

function renderPath(path: string, doc: RawJson): string {
  // What a template would get as a bare JSON value. A path that selects nothing is therefore
  // `""`, by analogy with templates (AWS was not recorded for InputPath itself).
  return renderSelected(path, doc).bare
}

function renderTransformer(
  transformer: InputTransformer,
  doc: RawJson,
  context: RuleContext,
): string | null {
  const paths = transformer.inputPathsMap ?? {}
  const cache = new Map<string, Rendering | undefined>()
  const resolve = (name: string): Rendering | undefined => {
    if (cache.has(name)) return cache.get(name)
    const value = Object.hasOwn(paths, name)
      ? renderSelected(paths[name]!, doc)
      : predefined(name, doc, context)
    cache.set(name, value)
    return value
  }
  return fillTemplate(transformer.inputTemplate, resolve)
}

function renderSelected(path: string, doc: RawJson): Rendering {
  const parsed = parsePath(path)
  if (parsed === null) return MISSING
  const nodes = selectNodes(doc.root, parsed.steps, doc.tree)
  if (!parsed.definite) {
    return nodes.length === 0 ? MISSING : jsonRendering(`[${nodes.map(doc.slice).join(',')}]`)
  }
  const node = nodes[0]
  if (node === undefined) return MISSING
  return doc.isString(node)
    ? stringRendering(doc.decode(node), doc.slice(node))
    : jsonRendering(doc.slice(node))
}

function predefined(name: string, doc: RawJson, context: RuleContext): Rendering | undefined {
  if (!PREDEFINED_VARIABLES.has(name)) return undefined
  switch (name) {
    case 'aws.events.rule-arn':
      return stringRendering(context.ruleArn)
    case 'aws.events.rule-name':
      return stringRendering(context.ruleName)
    case 'aws.events.event.ingestion-time':
      return stringRendering(context.ingestionTime)
    case 'aws.events.event':
      return jsonRendering(eventWithoutDetail(doc))
    default: // aws.events.event.json
      return jsonRendering(doc.slice(doc.root))
  }
}

/**
 * `<aws.events.event>`: the envelope without `detail`, in the key order and with the camel-case
 * `detailType` that AWS was recorded giving.
 */
const EVENT_FIELDS: readonly (readonly [string, string])[] = [
  ['id', 'id'],
  ['account', 'account'],
  ['detail-type', 'detailType'],
  ['time', 'time'],
  ['source', 'source'],
  ['region', 'region'],
  ['resources', 'resources'],
  ['version', 'version'],
]

function eventWithoutDetail(doc: RawJson): string {
  const members: string[] = []
  for (const [field, key] of EVENT_FIELDS) {
    const node: RawNode | undefined = doc.tree.member(doc.root, field)
    if (node !== undefined) members.push(`${JSON.stringify(key)}:${doc.slice(node)}`)
  }
  return `{${members.join(',')}}`
}

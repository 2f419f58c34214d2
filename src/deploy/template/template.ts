/**
 * @module
 * The template's sections checked and given shape: what {@link planStack} reads. Section and
 * attribute names are checked here; resource types and their properties are the provisioners'.
 */
import { TemplateError } from '../model.js'
import type { Lines } from './parse.js'

export type ResourceDecl = {
  logicalId: string
  type: string
  properties: Record<string, unknown>
  /** As written: DependsOn as a string or a list. */
  dependsOn: string[]
  condition: string | undefined
  deletionPolicy: 'Delete' | 'Retain'
  line: number | undefined
}

export type OutputDecl = {
  key: string
  value: unknown
  description: string | undefined
  exportName: unknown
  condition: string | undefined
  line: number | undefined
}

/** A loaded template, after the SAM transform: only CloudFormation resource types remain. */
export type Template = {
  /** The directory of the template file: local code paths are relative to it. */
  baseDir: string
  description: string | undefined
  parameters: Record<string, Record<string, unknown>>
  mappings: Record<string, unknown>
  conditions: Record<string, unknown>
  resources: ResourceDecl[]
  outputs: OutputDecl[]
  lines: Lines
}

const SECTIONS = [
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Mappings',
  'Conditions',
  'Transform',
  'Resources',
  'Outputs',
  'Globals',
]

const RESOURCE_ATTRIBUTES = [
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'Metadata',
  'CreationPolicy',
  'UpdatePolicy',
]

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `table[key]` when the table itself has it (never `constructor` and the like). */
export function own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined
}

function section(
  body: Record<string, unknown>,
  name: string,
  lines: Lines,
): Record<string, unknown> {
  const value = body[name]
  if (value === undefined || value === null) return {}
  if (!isRecord(value)) {
    throw new TemplateError(
      `Template format error: ${name} must be a mapping`,
      lines.key(body, name),
    )
  }
  return value
}

/** Gives shape to a parsed (and SAM-transformed) template body. */
export function buildTemplate(body: unknown, lines: Lines, baseDir: string): Template {
  if (!isRecord(body))
    throw new TemplateError('Template format error: the template must be a mapping')
  const unknown = Object.keys(body).filter((k) => !SECTIONS.includes(k))
  if (unknown.length > 0) {
    throw new TemplateError(
      `Template format error: Invalid template property or properties [${unknown.join(', ')}]; the sections are ${SECTIONS.join(', ')}`,
      lines.key(body, unknown[0] ?? ''),
    )
  }
  const description = body.Description
  const parameters = section(body, 'Parameters', lines)
  for (const [name, decl] of Object.entries(parameters)) {
    if (!isRecord(decl)) {
      throw new TemplateError(
        `Template format error: parameter ${name} must be a mapping`,
        lines.key(parameters, name),
      )
    }
  }
  const resources = section(body, 'Resources', lines)
  const outputs = section(body, 'Outputs', lines)
  if (Object.keys(resources).length === 0) {
    throw new TemplateError(
      'Template format error: At least one Resources member must be defined.',
      lines.key(body, 'Resources'),
    )
  }
  return {
    baseDir,
    description: typeof description === 'string' ? description : undefined,
    parameters: parameters as Record<string, Record<string, unknown>>,
    mappings: section(body, 'Mappings', lines),
    conditions: section(body, 'Conditions', lines),
    resources: Object.entries(resources).map(([id, r]) => resourceDecl(id, r, resources, lines)),
    outputs: Object.entries(outputs).map(([key, o]) => outputDecl(key, o, outputs, lines)),
    lines,
  }
}

function resourceDecl(logicalId: string, raw: unknown, owner: object, lines: Lines): ResourceDecl {
  const line = lines.keyLine(owner, logicalId) ?? lines.of(raw)
  if (!/^[A-Za-z0-9]+$/.test(logicalId)) {
    throw new TemplateError(
      `Template format error: Resource name ${logicalId} is non alphanumeric.`,
      line,
    )
  }
  if (!isRecord(raw) || typeof raw.Type !== 'string') {
    throw new TemplateError(
      `Template format error: [/Resources/${logicalId}] Every Resources object must contain a Type member.`,
      line,
    )
  }
  const bad = Object.keys(raw).filter((k) => !RESOURCE_ATTRIBUTES.includes(k))
  if (bad.length > 0) {
    throw new TemplateError(
      `Template format error: Invalid template resource property '${bad.join("', '")}' in ${logicalId}; the attributes are ${RESOURCE_ATTRIBUTES.join(', ')}`,
      lines.key(raw, bad[0] ?? ''),
    )
  }
  const properties = raw.Properties ?? {}
  if (!isRecord(properties)) {
    throw new TemplateError(
      `${logicalId}: Properties must be a mapping`,
      lines.key(raw, 'Properties'),
    )
  }
  return {
    logicalId,
    type: raw.Type,
    properties,
    dependsOn: dependsOn(logicalId, raw.DependsOn, line),
    condition: stringAttribute(logicalId, 'Condition', raw.Condition, line),
    deletionPolicy: deletionPolicy(logicalId, raw.DeletionPolicy, line),
    line,
  }
}

function stringAttribute(
  id: string,
  name: string,
  value: unknown,
  line: number | undefined,
): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new TemplateError(`${id}: ${name} must be a string`, line)
  return value
}

function dependsOn(id: string, value: unknown, line: number | undefined): string[] {
  if (value === undefined) return []
  const list = Array.isArray(value) ? value : [value]
  if (!list.every((v) => typeof v === 'string')) {
    throw new TemplateError(`${id}: DependsOn must be a logical id or a list of them`, line)
  }
  return list
}

const DELETION_POLICIES: Record<string, 'Delete' | 'Retain'> = {
  Delete: 'Delete',
  Retain: 'Retain',
  RetainExceptOnCreate: 'Retain',
  // Nothing here has snapshots: a snapshot policy deletes, as CloudFormation does for types
  // without them.
  Snapshot: 'Delete',
}

function deletionPolicy(id: string, value: unknown, line: number | undefined): 'Delete' | 'Retain' {
  if (value === undefined) return 'Delete'
  const policy = typeof value === 'string' ? own(DELETION_POLICIES, value) : undefined
  if (policy === undefined) {
    throw new TemplateError(
      `${id}: DeletionPolicy must be one of ${Object.keys(DELETION_POLICIES).join(', ')}`,
      line,
    )
  }
  return policy
}

function outputDecl(key: string, raw: unknown, owner: object, lines: Lines): OutputDecl {
  const line = lines.keyLine(owner, key) ?? lines.of(raw)
  if (!isRecord(raw) || raw.Value === undefined) {
    throw new TemplateError(
      `Template format error: Every Outputs member must contain a Value object (${key})`,
      line,
    )
  }
  const exported = raw.Export
  if (exported !== undefined && !(isRecord(exported) && exported.Name !== undefined)) {
    throw new TemplateError(`Output ${key}: Export must be a mapping with a Name`, line)
  }
  return {
    key,
    value: raw.Value,
    description: stringAttribute(`Output ${key}`, 'Description', raw.Description, line),
    exportName: isRecord(exported) ? exported.Name : undefined,
    condition: stringAttribute(`Output ${key}`, 'Condition', raw.Condition, line),
    line,
  }
}

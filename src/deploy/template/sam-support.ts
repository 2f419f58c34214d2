/**
 * @module
 * Small helpers the SAM transform's files share.
 */
import { TemplateError } from '../model.js'
import { isRecord } from './template.js'

/** Adds one generated resource: its logical id, type and properties. */
export type Generate = (
  logicalId: string,
  type: string,
  properties: Record<string, unknown>,
) => void

export function getAtt(logicalId: string, attribute: string): unknown {
  return { 'Fn::GetAtt': [logicalId, attribute] }
}

/** The object without its undefined members. */
export function compact(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined))
}

/** Checks a SAM mapping holds only `allowed` keys; `where` names it in the error. */
export function checkKeys(
  value: unknown,
  allowed: readonly string[],
  where: string,
  line: number | undefined,
): Record<string, unknown> {
  if (value === undefined) return {}
  if (!isRecord(value)) throw new TemplateError(`${where} must be a mapping`, line)
  const bad = Object.keys(value).filter((k) => !allowed.includes(k))
  if (bad.length > 0) {
    throw new TemplateError(
      `${where}: ${bad.join(', ')} ${bad.length === 1 ? 'is' : 'are'} not supported; the supported properties are ${allowed.join(', ')}`,
      line,
    )
  }
  return value
}

export function assumeRolePolicy(service: string): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [{ Action: ['sts:AssumeRole'], Effect: 'Allow', Principal: { Service: [service] } }],
  }
}

/**
 * Every row of the shared transformer corpus (recorded against AWS, and from moto): a target's
 * Input* settings are read as PutTargets reads them, rejected settings must fail with AWS's
 * message, and accepted ones must deliver the recorded body (byte for byte where AWS's raw body
 * was recorded, as parsed JSON where only that was kept) or nothing where AWS delivered nothing.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  checkTargetInput,
  readTargetInput,
  renderInput,
  type TargetInputFields,
} from '../../src/transform/index.js'
import { readJsonLines } from '../helpers/shared.js'

type Row = {
  id: string
  event: Record<string, unknown>
  inputPath?: string
  inputPathsMap?: Record<string, string>
  inputTemplate?: string
  context?: { ruleArn: string; ruleName: string; ingestionTime: string }
  expected?: string | null
  compare?: 'exact' | 'json'
  unverifiedPaths?: string[]
  delivered?: boolean
  valid?: boolean
  error?: string
  errorCode?: string
}

const rows = readJsonLines<Row>('conformance', 'transformers.jsonl')

const TARGET_ID = 'target-7f3a'
// for rows that use no predefined variable; rows that do carry their own context
const DEFAULT_CONTEXT = {
  ruleArn: 'arn:aws:events:us-east-1:111111111111:rule/conformance',
  ruleName: 'conformance',
  ingestionTime: '2024-01-01T00:00:01Z',
}

function fieldsOf(row: Row): TargetInputFields {
  const fields: TargetInputFields = {}
  if (row.inputPath !== undefined) fields.inputPath = row.inputPath
  if (row.inputTemplate !== undefined) {
    fields.inputTransformer =
      row.inputPathsMap === undefined
        ? { inputTemplate: row.inputTemplate }
        : { inputPathsMap: row.inputPathsMap, inputTemplate: row.inputTemplate }
  }
  return fields
}

/** A deep copy of `value` without the dotted paths (values AWS's recording masked). */
function without(value: unknown, paths: readonly string[]): unknown {
  const copy = structuredClone(value)
  for (const path of paths) {
    const keys = path.split('.')
    let node: unknown = copy
    for (const key of keys.slice(0, -1)) {
      node =
        typeof node === 'object' && node !== null
          ? (node as Record<string, unknown>)[key]
          : undefined
    }
    if (typeof node === 'object' && node !== null) Reflect.deleteProperty(node, keys.at(-1)!)
  }
  return copy
}

for (const row of rows) {
  test(`transformer conformance: ${row.id}`, () => {
    const read = readTargetInput(TARGET_ID, fieldsOf(row))

    if (row.valid === false) {
      assert.ok('error' in read, 'PutTargets accepted a setting AWS rejects')
      const expected = row.error!.replaceAll('<target-id>', TARGET_ID)
      assert.equal(`${row.errorCode!}: ${read.error}`, expected)
      return
    }

    assert.ok(
      'input' in read,
      `PutTargets rejected the setting: ${'error' in read ? read.error : ''}`,
    )
    assert.equal(checkTargetInput(TARGET_ID, read.input), null)
    const event = { text: JSON.stringify(row.event), object: row.event }
    const body = renderInput(read.input, event, row.context ?? DEFAULT_CONTEXT)

    if (row.delivered === false) {
      assert.equal(body, null, 'delivered a body where AWS delivered nothing')
      return
    }
    assert.notEqual(body, null, 'delivered nothing where AWS delivered a body')
    if (row.compare === 'exact') {
      assert.equal(body, row.expected)
      return
    }
    assert.equal(row.compare, 'json')
    const ignored = row.unverifiedPaths ?? []
    assert.deepEqual(
      without(JSON.parse(body!), ignored),
      without(JSON.parse(row.expected!), ignored),
    )
  })
}

test('the transformer corpus is complete', () => {
  // the README of the corpus counts 37 rows; a truncated copy must not pass silently
  assert.equal(rows.length, 37)
})

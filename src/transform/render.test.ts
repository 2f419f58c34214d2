import assert from 'node:assert/strict'
import { test } from 'node:test'
import { renderInput, type TargetInput } from './index.js'

// written by hand, as a bus would store it: compact, with number literals JavaScript would respell
const text =
  '{"version":"0","id":"e-1","detail-type":"Order Placed","source":"shop","account":"123456789012",' +
  '"time":"2024-05-01T10:00:00Z","region":"eu-west-1","resources":["arn:aws:x:1"],' +
  '"detail":{"id":"o-17","total":300.0,"ref":12345678901234567890,"paid":true,"note":null,' +
  '"quote":"say \\"hi\\"","tags":["new","gift"],"empty":[],"customer":{"name":"Ana","vip":false},' +
  '"lines":[{"sku":"A","qty":1},{"sku":"B","qty":2}]}}'
const event = { text, object: JSON.parse(text) as Record<string, unknown> }
const context = {
  ruleArn: 'arn:aws:events:eu-west-1:123456789012:rule/orders',
  ruleName: 'orders',
  ingestionTime: '2024-05-01T10:00:01Z',
}

const paths = {
  id: '$.detail.id',
  total: '$.detail.total',
  ref: '$.detail.ref',
  paid: '$.detail.paid',
  note: '$.detail.note',
  quote: '$.detail.quote',
  tags: '$.detail.tags',
  empty: '$.detail.empty',
  customer: '$.detail.customer',
  skus: '$.detail.lines[*].sku',
  nope: '$.detail.missing',
}

const transform = (inputTemplate: string): string | null =>
  renderInput(
    { kind: 'transformer', transformer: { inputPathsMap: paths, inputTemplate } },
    event,
    context,
  )
const path = (inputPath: string): string | null =>
  renderInput({ kind: 'path', inputPath }, event, context)

test('no Input setting: the stored envelope, unchanged', () => {
  assert.equal(renderInput({ kind: 'event' }, event, context), text)
})

test('Input: the constant, verbatim', () => {
  const input: TargetInput = { kind: 'constant', input: '{ "fixed" : 1.0 }' }
  assert.equal(renderInput(input, event, context), '{ "fixed" : 1.0 }')
})

test('InputPath: the selected value as JSON, spelled as in the event', () => {
  assert.equal(path('$.detail.id'), '"o-17"')
  assert.equal(path('$.detail.total'), '300.0')
  assert.equal(path('$.detail.ref'), '12345678901234567890')
  assert.equal(path('$.detail.paid'), 'true')
  assert.equal(path('$.detail.note'), 'null')
  assert.equal(path('$.detail.customer'), '{"name":"Ana","vip":false}')
  assert.equal(path('$.detail.lines[1]'), '{"sku":"B","qty":2}')
  assert.equal(path('$.detail.lines[*].qty'), '[1,2]')
  assert.equal(path('$'), text)
})

test('InputPath that selects nothing: an empty JSON string, as a template would get', () => {
  assert.equal(path('$.detail.missing'), '""')
  assert.equal(path('$.detail.lines[*].colour'), '""')
})

test('text template: strings raw, scalars as written, objects and lists without quotes', () => {
  assert.equal(
    transform('"<id>: <total> <ref> <paid> <note> <tags> <customer> <empty>"'),
    '"o-17: 300.0 12345678901234567890 true null [new,gift] {name:Ana,vip:false} []"',
  )
  assert.equal(transform('"SKUs <skus>"'), '"SKUs [A,B]"')
})

test('text template: an unresolved path is an empty string', () => {
  assert.equal(transform('"[<nope>]"'), '"[]"')
})

test('text template: delivered as it comes out, JSON or not', () => {
  assert.equal(transform('Order <id> is <paid>'), 'Order o-17 is true')
  assert.equal(transform('"a <id>"\n"b <id>"'), '"a o-17"\n"b o-17"')
  // values are not escaped
  assert.equal(transform('"<quote>"'), '"say "hi""')
})

test('JSON template: a bare placeholder is a JSON value', () => {
  assert.equal(
    transform('{"id": <id>, "total": <total>, "ref": <ref>, "paid": <paid>, "note": <note>}'),
    '{"id": "o-17", "total": 300.0, "ref": 12345678901234567890, "paid": true, "note": null}',
  )
  assert.equal(
    transform('{"tags": <tags>, "c": <customer>, "skus": <skus>}'),
    '{"tags": ["new","gift"], "c": {"name":"Ana","vip":false}, "skus": ["A","B"]}',
  )
  // the event's own escapes are kept, so a bare string stays valid JSON
  assert.equal(transform('{"q": <quote>}'), '{"q": "say \\"hi\\""}')
})

test('JSON template: inside quotes a string is raw, and an unresolved path is empty', () => {
  assert.equal(
    transform('{"path": "orders/<id>/<id>", "n": "<total>", "x": "<nope>"}'),
    '{"path": "orders/o-17/o-17", "n": "300.0", "x": ""}',
  )
  // escaped quotes do not end the string: the placeholder between them is still quoted
  assert.equal(transform('{"s": "order \\"<id>\\" paid"}'), '{"s": "order \\"o-17\\" paid"}')
})

test('JSON template: an unresolved bare placeholder is ""', () => {
  assert.equal(transform('{"x": <nope>, "y": [<nope>]}'), '{"x": "", "y": [""]}')
})

test('JSON template: output that is not JSON is not delivered', () => {
  // an object or list inside quotes
  assert.equal(transform('{"c": "<customer>"}'), null)
  assert.equal(transform('{"t": "tags: <tags>"}'), null)
  // a raw string whose quotes break the string it stands in
  assert.equal(transform('{"q": "<quote>"}'), null)
  // a template that was never JSON
  assert.equal(transform('{"id": <id>'), null)
})

test('JSON template: a list template, and blanks before the brace, are JSON templates too', () => {
  assert.equal(transform('[<id>, "fixed", <total>]'), '["o-17", "fixed", 300.0]')
  assert.equal(transform('\n  {"id": <id>}'), '\n  {"id": "o-17"}')
  // the template's own layout is kept
  assert.equal(transform('{\n  "id" :   <id>\n}'), '{\n  "id" :   "o-17"\n}')
})

test('predefined variables: rule, ingestion time, the event with and without detail', () => {
  assert.equal(
    transform('{"arn": <aws.events.rule-arn>, "name": "<aws.events.rule-name>"}'),
    '{"arn": "arn:aws:events:eu-west-1:123456789012:rule/orders", "name": "orders"}',
  )
  assert.equal(transform('"at <aws.events.event.ingestion-time>"'), '"at 2024-05-01T10:00:01Z"')
  assert.equal(
    transform('{"e": <aws.events.event>}'),
    '{"e": {"id":"e-1","account":"123456789012","detailType":"Order Placed",' +
      '"time":"2024-05-01T10:00:00Z","source":"shop","region":"eu-west-1",' +
      '"resources":["arn:aws:x:1"],"version":"0"}}',
  )
  assert.equal(transform('{"e": <aws.events.event.json>}'), `{"e": ${text}}`)
  // they are JSON objects: quoted, they break the JSON
  assert.equal(transform('{"e": "<aws.events.event>"}'), null)
})

test('a template without InputPathsMap uses predefined variables only', () => {
  const input: TargetInput = {
    kind: 'transformer',
    transformer: { inputTemplate: '"<aws.events.rule-name> fired"' },
  }
  assert.equal(renderInput(input, event, context), '"orders fired"')
})

test('what is not a placeholder stays as written', () => {
  // blanks inside angle brackets
  assert.equal(transform('"1 < 2 and 3 > 2, <id>"'), '"1 < 2 and 3 > 2, o-17"')
  // a name that is no variable (PutTargets refuses it; nothing is invented if one gets here)
  assert.equal(transform('"<b>bold</b> <id>"'), '"<b>bold</b> o-17"')
})

test('values come from the event text, not from the parsed object', () => {
  const twin = { text: '{"detail":{"n":1.50}}', object: { detail: { n: 99 } } }
  const input: TargetInput = { kind: 'path', inputPath: '$.detail.n' }
  assert.equal(renderInput(input, twin, context), '1.50')
})

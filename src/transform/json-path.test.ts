import assert from 'node:assert/strict'
import { test } from 'node:test'
import { evaluatePath, parsePath } from './json-path.js'

const event = {
  version: '0',
  'detail-type': 'Order Placed',
  detail: {
    order_id: 'o-17',
    'ship-to': { city: 'Lyon' },
    'a/b': 'slashed',
    '2024': 'digits',
    items: [{ sku: 'A', qty: 1 }, { sku: 'B', qty: 2 }, { qty: 3 }],
    matrix: [
      [1, 2],
      [3, 4],
    ],
    nothing: null,
    flag: false,
  },
}

test('$ is the whole value', () => {
  assert.equal(evaluatePath(event, '$'), event)
  assert.equal(evaluatePath('text', '$'), 'text')
})

test('dot notation with dashes, underscores, digits and forward slashes', () => {
  assert.equal(evaluatePath(event, '$.detail-type'), 'Order Placed')
  assert.equal(evaluatePath(event, '$.detail.order_id'), 'o-17')
  assert.equal(evaluatePath(event, '$.detail.ship-to.city'), 'Lyon')
  assert.equal(evaluatePath(event, '$.detail.a/b'), 'slashed')
  assert.equal(evaluatePath(event, '$.detail.2024'), 'digits')
  assert.deepEqual(evaluatePath(event, '$.detail.ship-to'), { city: 'Lyon' })
})

test('array indices, also on nested arrays and on the root', () => {
  assert.deepEqual(evaluatePath(event, '$.detail.items[1]'), { sku: 'B', qty: 2 })
  assert.equal(evaluatePath(event, '$.detail.items[0].sku'), 'A')
  assert.equal(evaluatePath(event, '$.detail.matrix[1][0]'), 3)
  assert.equal(evaluatePath(['x', 'y'], '$[1]'), 'y')
})

test('null and false are values, not absences', () => {
  assert.equal(evaluatePath(event, '$.detail.nothing'), null)
  assert.equal(evaluatePath(event, '$.detail.flag'), false)
})

test('a path that leads nowhere gives undefined', () => {
  assert.equal(evaluatePath(event, '$.detail.missing'), undefined)
  assert.equal(evaluatePath(event, '$.detail.order_id.length'), undefined)
  assert.equal(evaluatePath(event, '$.detail.items[3]'), undefined)
  // a name on an array and an index on an object select nothing
  assert.equal(evaluatePath(event, '$.detail.items.sku'), undefined)
  assert.equal(evaluatePath(event, '$.detail[0]'), undefined)
  assert.equal(evaluatePath(null, '$.a'), undefined)
})

test('only own properties are members: nothing leaks from Object.prototype', () => {
  assert.equal(evaluatePath({}, '$.constructor'), undefined)
  assert.equal(evaluatePath({ a: {} }, '$.a.toString'), undefined)
  const parsed = JSON.parse('{"__proto__": {"x": 1}}') as unknown
  assert.equal(evaluatePath(parsed, '$.__proto__.x'), 1)
})

test('wildcards give the list of what they select, in document order', () => {
  assert.deepEqual(evaluatePath(event, '$.detail.items[*].sku'), ['A', 'B'])
  assert.deepEqual(evaluatePath(event, '$.detail.items[*].qty'), [1, 2, 3])
  assert.deepEqual(evaluatePath(event, '$.detail.ship-to.*'), ['Lyon'])
  assert.deepEqual(evaluatePath({ b: 1, a: 2 }, '$.*'), [1, 2])
  assert.deepEqual(evaluatePath(event, '$.detail.matrix[*][1]'), [2, 4])
  assert.deepEqual(evaluatePath(event, '$.detail.matrix[*][*]'), [1, 2, 3, 4])
  assert.deepEqual(evaluatePath(event, '$.detail.matrix.*[0]'), [1, 3])
  // one match is still a list, since the path could have selected several
  assert.deepEqual(evaluatePath({ a: [{ b: 'only' }] }, '$.a[*].b'), ['only'])
})

test('a wildcard that selects nothing gives undefined', () => {
  assert.equal(evaluatePath(event, '$.detail.items[*].colour'), undefined)
  assert.equal(evaluatePath({ a: [] }, '$.a[*]'), undefined)
  assert.equal(evaluatePath({ a: 'scalar' }, '$.a.*'), undefined)
})

test('paths outside the EventBridge subset are invalid and select nothing', () => {
  for (const path of [
    '',
    'detail',
    '.detail',
    '$.',
    '$..detail',
    '$.detail.',
    "$['detail']",
    '$["detail"]',
    '$.detail[-1]',
    '$.detail[0:2]',
    '$.detail[?(@.qty > 1)]',
    '$.detail[]',
    '$.de tail',
    '$detail',
    '$.a*',
    '$ .detail',
  ]) {
    assert.equal(parsePath(path), null, path)
    assert.equal(evaluatePath(event, path), undefined, path)
  }
})

test('parsePath tells definite paths from lists', () => {
  assert.deepEqual(parsePath('$.detail.items[2].sku'), {
    steps: [
      { kind: 'member', name: 'detail' },
      { kind: 'member', name: 'items' },
      { kind: 'index', index: 2 },
      { kind: 'member', name: 'sku' },
    ],
    definite: true,
  })
  assert.deepEqual(parsePath('$.a.*[*]'), {
    steps: [{ kind: 'member', name: 'a' }, { kind: 'wildcard' }, { kind: 'wildcard' }],
    definite: false,
  })
  assert.deepEqual(parsePath('$'), { steps: [], definite: true })
})

/**
 * A hand-made StackPlan for the provisioning tests: resources with their properties written as
 * functions of what exists so far (`ref`, `att`), standing in for the template side.
 */
import type {
  CreatedLookup,
  PlannedResource,
  StackOutput,
  StackPlan,
} from '../../src/deploy/model.js'

export type Resolve = {
  ref(logicalId: string): string
  att(logicalId: string, name: string): unknown
}

export type FakeResource = Partial<PlannedResource> & {
  logicalId: string
  type: string
  props: (r: Resolve) => Record<string, unknown>
}

function resolver(created: CreatedLookup): Resolve {
  const need = (id: string) => {
    const c = created(id)
    if (!c) throw new Error(`${id} is not created yet`)
    return c
  }
  return {
    ref: (id) => need(id).physicalId,
    att: (id, name) => need(id).attributes[name],
  }
}

export function fakePlan(
  stackName: string,
  resources: FakeResource[],
  outputs: (r: Resolve) => StackOutput[] = () => [],
  scope = { account: '111111111111', region: 'us-east-1' },
): StackPlan {
  const byId = new Map(resources.map((r) => [r.logicalId, r]))
  return {
    stackName,
    ...scope,
    baseDir: '/tmp',
    parameters: { Stage: 'test' },
    resources: resources.map((r) => ({
      logicalId: r.logicalId,
      type: r.type,
      line: r.line,
      dependsOn: r.dependsOn ?? [],
      deletionPolicy: r.deletionPolicy ?? 'Delete',
    })),
    properties: (id, created) => byId.get(id)!.props(resolver(created)),
    outputs: (created) => outputs(resolver(created)),
  }
}

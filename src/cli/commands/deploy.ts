/**
 * @module
 * `junction deploy TEMPLATE [--stack-name N] [--parameter-overrides K=V …] [--delete]`: deploys
 * a CloudFormation or SAM template to a running server as a stack (see docs/deploy.md), printing
 * CloudFormation-style progress lines and then the outputs. Exit 0 on success, 1 when the deploy
 * failed (and was rolled back) or the server could not be reached, 2 for a usage or template
 * error (nothing was changed).
 */
import { basename, resolve } from 'node:path'
import { deleteStack, deployStack, DeployError, type StackEvent } from '../../deploy/deploy.js'
import { destroyClients } from '../../deploy/clients.js'
import { TemplateError } from '../../deploy/model.js'
import { loadTemplate, planStack } from '../../deploy/template/index.js'
import { stackNameOfFile, stackNameProblem } from '../../deploy/names.js'
import { openSession, type SessionFlags } from '../../deploy/stack-session.js'

export type DeployFlags = SessionFlags & {
  stackName?: string
  parameterOverrides?: string[]
  delete?: boolean
}

type Out = { out: (text: string) => void; err: (text: string) => void }
const std: Out = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
}

/** `K=V` pairs, each its own argument or several in one separated by spaces. */
export function parseOverrides(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of args.flatMap((a) => a.split(/\s+(?=[A-Za-z0-9]+=)/))) {
    if (pair.trim() === '') continue
    const i = pair.indexOf('=')
    if (i <= 0)
      throw new TemplateError(`--parameter-overrides: ${pair} is not of the form Key=Value.`)
    out[pair.slice(0, i).trim()] = pair.slice(i + 1)
  }
  return out
}

export function eventLine(e: StackEvent): string {
  const id = e.physicalId === undefined || e.physicalId === e.logicalId ? '' : ` ${e.physicalId}`
  const why = e.reason === undefined ? '' : `  ${e.reason}`
  return `${e.status} ${e.type} ${e.logicalId}${id}${why}\n`
}

export async function deploy(template: string, flags: DeployFlags, io: Out = std): Promise<number> {
  const stackName = flags.stackName ?? stackNameOfFile(basename(template))
  const bad = stackNameProblem(stackName)
  if (bad !== undefined) {
    io.err(`${bad}\n`)
    return 2
  }
  let session
  try {
    session = await openSession(flags)
  } catch (e) {
    io.err(`${e instanceof Error ? e.message : String(e)}\n`)
    return 1
  }
  const onEvent = (e: StackEvent) => {
    io.out(eventLine(e))
  }
  try {
    if (flags.delete) {
      await deleteStack({ stackName, ...session, onEvent })
      io.out(`Deleted stack ${stackName}\n`)
      return 0
    }
    const parameters = parseOverrides(flags.parameterOverrides ?? [])
    const templatePath = resolve(template)
    const plan = planStack(loadTemplate(templatePath), {
      parameters,
      stackName,
      account: session.account,
      region: session.region,
    })
    const result = await deployStack({ plan, ...session, templatePath, onEvent })
    io.out(`Successfully deployed stack ${stackName} (${result.record.id})\n`)
    if (result.outputs.length > 0) {
      io.out('Outputs:\n')
      for (const o of result.outputs)
        io.out(`  ${o.key} = ${typeof o.value === 'string' ? o.value : JSON.stringify(o.value)}\n`)
    }
    return 0
  } catch (e) {
    if (e instanceof TemplateError) {
      io.err(`${e.message}\n`)
      return 2
    }
    if (e instanceof DeployError) {
      io.err(`${e.message}\n`)
      return e.phase === 'validation' ? 2 : 1
    }
    io.err(
      `${e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e)}\n`,
    )
    return 1
  } finally {
    destroyClients(session.clients)
  }
}

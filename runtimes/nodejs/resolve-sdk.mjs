// Module resolution hook (runs on Node's loader thread): a bare `@aws-sdk/*` specifier the
// function's own code does not resolve is looked up from Junction's node_modules, as Lambda's
// Node.js runtimes ship the SDK v3.
import { pathToFileURL } from 'node:url'

let parentURL = ''

export function initialize(data) {
  parentURL = pathToFileURL(`${data.root}/package.json`).href
}

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context)
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !specifier.startsWith('@aws-sdk/')) throw err
    return next(specifier, { ...context, parentURL })
  }
}

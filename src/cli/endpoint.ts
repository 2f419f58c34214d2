/**
 * @module
 * Where the commands that talk to a running server send their requests, found as the AWS CLI
 * finds an endpoint: `--endpoint-url`, then `AWS_ENDPOINT_URL_EVENTBRIDGE`, then
 * `AWS_ENDPOINT_URL`; failing those, a server on this machine's default port.
 */
import { DEFAULTS } from '../config.js'

export function endpointUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const url =
    flag ??
    env.AWS_ENDPOINT_URL_EVENTBRIDGE ??
    env.AWS_ENDPOINT_URL ??
    `http://127.0.0.1:${String(DEFAULTS.port)}`
  try {
    new URL(url)
  } catch {
    throw new Error(`invalid endpoint URL: ${url}`)
  }
  return url.replace(/\/+$/, '')
}

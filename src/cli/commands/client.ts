/**
 * @module
 * How the commands that talk to a running server find it and call it: `--endpoint-url`, else
 * `AWS_ENDPOINT_URL_EVENTBRIDGE`, else `AWS_ENDPOINT_URL` (as the AWS CLI and SDKs read them),
 * else `http://127.0.0.1:4010`. The account comes from `--account`, else from
 * `AWS_ACCESS_KEY_ID` (a 12-digit key is the account, as the server reads it), else the
 * server's default; it is sent in the form of a SigV4 credential scope (signatures are not
 * checked by the server).
 */

export type ClientFlags = { endpointUrl?: string; account?: string; region?: string }

export function endpointOf(flags: ClientFlags): string {
  return (
    flags.endpointUrl ??
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE ??
    process.env.AWS_ENDPOINT_URL ??
    'http://127.0.0.1:4010'
  )
}

/** The Authorization header naming the caller, or none (the server's defaults apply). */
export function callerHeaders(flags: ClientFlags): Record<string, string> {
  const key = flags.account ?? process.env.AWS_ACCESS_KEY_ID
  if (key === undefined) return {}
  const region =
    flags.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1'
  const date = new Date().toISOString().slice(0, 10).replaceAll('-', '')
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${key}/${date}/${region}/events/aws4_request, SignedHeaders=host, Signature=unsigned`,
  }
}

/**
 * An error answer as one line: `Code: message`. The code is `__type` (JSON 1.1) or the
 * `x-amzn-ErrorType` header (REST-JSON, where the message may also be `Message`).
 */
export async function errorText(res: Response): Promise<string> {
  const text = await res.text()
  try {
    const parsed = JSON.parse(text) as { __type?: string; message?: string; Message?: string }
    const code = parsed.__type ?? res.headers.get('x-amzn-errortype') ?? 'Error'
    return `${code}: ${parsed.message ?? parsed.Message ?? ''}`
  } catch {
    return text
  }
}

/** Calls an EventBridge operation; its output, or throws with the error line. */
export async function callEvents(
  flags: ClientFlags,
  operation: string,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const res = await fetch(new URL('/', endpointOf(flags)), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSEvents.${operation}`,
      ...callerHeaders(flags),
    },
    body: JSON.stringify(input),
  })
  if (!res.ok) throw new Error(await errorText(res))
  return (await res.json()) as Record<string, unknown>
}

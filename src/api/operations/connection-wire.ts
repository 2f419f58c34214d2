/**
 * @module
 * Connections and API destinations at the wire edge: the model's shapes and AWS's messages for
 * checking requests, AWS JSON → domain for the auth parameters, and domain → AWS JSON for
 * answers that never carry a secret (password, API key value, client secret, or the value of an
 * HTTP parameter marked `IsValueSecret`).
 *
 * Verified (botocore model, API reference, LocalStack snapshots recorded against AWS):
 * - shapes and patterns below [M]; `authorizationType` and API destination `httpMethod` enums
 *   print as `[BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]` and `[HEAD, POST, PATCH, DELETE, PUT,
 *   GET, OPTIONS]` [LS-V]; a bad `connectionArn` is reported with the pattern below [LS-V];
 * - DescribeConnection returns only Username / ApiKeyName / ClientID, AuthorizationEndpoint and
 *   HttpMethod of the auth parameters, plus SecretArn [LS-V];
 * - "You must include only authorization parameters for the AuthorizationType you specify."
 *   (API reference, CreateConnection).
 * - A bad API destination endpoint: `Failed to create the api-destination(s). Parameter
 *   InvocationEndpoint is not valid. Reason: Endpoint '<url>' is invalid, please provide a valid
 *   HTTPS endpoint URL.` (an error AWS returned, quoted in a user's CloudFormation code).
 *
 * Assumed:
 * - the wording of the "auth parameters do not match AuthorizationType" message (AWS's is not
 *   published); it follows the `Failed to <verb> the …(s). Parameter … is not valid. Reason: …`
 *   form AWS uses for API destinations;
 * - sensitive members (secrets, parameter values) are reported as `Value at '<path>' …` without
 *   the value, as AWS's validation does for members marked sensitive (Cognito's password
 *   messages show the form); the model marks them sensitive;
 * - an omitted `IsValueSecret` means false (the model's default for the member);
 * - secret parameter values are left out of DescribeConnection (key and `IsValueSecret` stay);
 * - AuthorizationEndpoint is checked like InvocationEndpoint (same shape).
 *
 * Junction differs from AWS on purpose: `http://` endpoints are accepted as well as `https://`
 * (a self-hosted bus talks to plain-HTTP services on its own network).
 */
import { BusError } from '../../errors.js'
import type {
  AuthorizationType,
  Connection,
  ConnectionAuth,
  ConnectionHttpParameters,
  ConnectionParameter,
  ConnectionState,
} from '../../model.js'
import type { Checker, Input, StringRule } from '../validate.js'
import { compact, seconds } from './wire.js'

// ── shapes (reference §2.1, botocore model) ──────────────────────────────────

export const AUTHORIZATION_TYPES: readonly AuthorizationType[] = [
  'BASIC',
  'OAUTH_CLIENT_CREDENTIALS',
  'API_KEY',
]
const OAUTH_HTTP_METHODS = ['GET', 'POST', 'PUT'] as const
export const CONNECTION_STATES: readonly ConnectionState[] = [
  'CREATING',
  'UPDATING',
  'DELETING',
  'AUTHORIZED',
  'DEAUTHORIZED',
  'AUTHORIZING',
  'DEAUTHORIZING',
  'ACTIVE',
  'FAILED_CONNECTIVITY',
]
/** In the order AWS prints the set (not the model's order) [LS-V]. */
export const API_DESTINATION_HTTP_METHODS = [
  'HEAD',
  'POST',
  'PATCH',
  'DELETE',
  'PUT',
  'GET',
  'OPTIONS',
] as const

export const CONNECTION_ARN: StringRule = {
  min: 1,
  max: 1600,
  pattern:
    /^arn:aws([a-z]|-)*:events:([a-z]|\d|-)*:([0-9]{12})?:connection\/[-._A-Za-z0-9]+\/[-A-Za-z0-9]+$/,
  patternText:
    '^arn:aws([a-z]|\\-)*:events:([a-z]|\\d|\\-)*:([0-9]{12})?:connection\\/[\\.\\-_A-Za-z0-9]+\\/[\\-A-Za-z0-9]+$',
}

export const HTTPS_ENDPOINT: StringRule = {
  min: 1,
  max: 2048,
  pattern: /^((%[0-9A-Fa-f]{2}|[-()_.!~*';/?:@&=+$,A-Za-z0-9])+)([).!';/?:,])?$/,
  patternText: "^((%[0-9A-Fa-f]{2}|[-()_.!~*';/?:@\\x26=+$,A-Za-z0-9])+)([).!';/?:,])?$",
}

export const KMS_KEY_IDENTIFIER: StringRule = {
  max: 2048,
  pattern: /^[-a-zA-Z0-9_/:]*$/,
  patternText: '^[a-zA-Z0-9_\\-/:]*$',
}

/*
 * The tests below accept exactly what AWS's patterns accept, written so that they run in linear
 * time: AWS's `X+([ \t]+X+)*` forms backtrack exponentially on a long failing value, and the
 * pattern is tested before the length.
 *
 * AuthHeaderParameters `^[ \t]*[^\x00-\x1F:\x7F]+([ \t]+[^\x00-\x1F:\x7F]+)*[ \t]*$`: characters
 * from S = [^\x00-\x1F:\x7F] (space included) or tab, at least one of them from S.
 */
const AUTH_HEADER: StringRule = {
  min: 1,
  max: 512,
  // eslint-disable-next-line no-control-regex -- AWS's pattern excludes control characters
  pattern: /^\t*[^\x00-\x1F:\x7F][^\x00-\x08\x0A-\x1F:\x7F]*$/,
  patternText: '^[ \\t]*[^\\x00-\\x1F:\\x7F]+([ \\t]+[^\\x00-\\x1F:\\x7F]+)*[ \\t]*$',
}
/** AWS: ``^[!#$%&'*+-.^_`|~0-9a-zA-Z]+$`` (`+-.` is a range: `+ , - .`). */
const HEADER_KEY: StringRule = {
  max: 512,
  pattern: /^[!#$%&'*+,\-.^_`|~0-9a-zA-Z]+$/,
  patternText: "^[!#$%&'*+-.^_`|~0-9a-zA-Z]+$",
}
/** AWS: `^[ \t]*[\x20-\x7E]+([ \t]+[\x20-\x7E]+)*[ \t]*$` (printable ASCII or tab, one printable). */
const HEADER_VALUE: StringRule = {
  max: 512,
  pattern: /^\t*[\x20-\x7E][\t\x20-\x7E]*$/,
  patternText: '^[ \\t]*[\\x20-\\x7E]+([ \\t]+[\\x20-\\x7E]+)*[ \\t]*$',
}
const QUERY_STRING_KEY: StringRule = {
  max: 512,
  // eslint-disable-next-line no-control-regex -- AWS's pattern excludes control characters
  pattern: /^[^\x00-\x1F\x7F]+$/,
  patternText: '[^\\x00-\\x1F\\x7F]+',
}
const QUERY_STRING_VALUE: StringRule = {
  max: 512,
  // eslint-disable-next-line no-control-regex -- AWS's pattern excludes control characters
  pattern: /^[^\x00-\x09\x0B\x0C\x0E-\x1F\x7F]+$/,
  patternText: '[^\\x00-\\x09\\x0B\\x0C\\x0E-\\x1F\\x7F]+',
}
/** ConnectionHttpParameters lists hold at most 100 parameters each. */
const MAX_PARAMETERS = 100

// ── sensitive members ────────────────────────────────────────────────────────

/**
 * Stands for a sensitive value in a recorded failure; {@link finish} turns `Value '<this>' at`
 * into AWS's `Value at`, so the value never reaches the message (or a log of it).
 */
const REDACTED = '\u0000redacted\u0000'

/** Throws the ValidationException for what the checker recorded, sensitive values left out. */
export function finish(check: Checker): void {
  try {
    check.done()
  } catch (e) {
    if (!(e instanceof BusError)) throw e
    throw new BusError(e.code, e.message.replaceAll(`Value '${REDACTED}' at`, 'Value at'))
  }
}

/** Like {@link Checker.string}, for a member whose value must not appear in messages. */
function secretString(
  check: Checker,
  input: Input,
  member: string,
  path: string,
  rule: StringRule & { required?: boolean },
): string | undefined {
  const v = input[member]
  if (v === undefined || v === null) {
    if (rule.required) check.fail(REDACTED, path, 'Member must not be null')
    return undefined
  }
  if (typeof v !== 'string')
    throw new BusError('SerializationException', `${member} must be a string.`)
  if (rule.pattern && !rule.pattern.test(v))
    check.fail(
      REDACTED,
      path,
      `Member must satisfy regular expression pattern: ${rule.patternText ?? rule.pattern.source}`,
    )
  const length = Array.from(v).length
  if (rule.max !== undefined && length > rule.max)
    check.fail(REDACTED, path, `Member must have length less than or equal to ${String(rule.max)}`)
  if (rule.min !== undefined && length < rule.min)
    check.fail(
      REDACTED,
      path,
      `Member must have length greater than or equal to ${String(rule.min)}`,
    )
  return v
}

// ── request → domain ─────────────────────────────────────────────────────────

/** HTTP parameters as a request gives them: only the lists it names. */
export type HttpParametersInput = Partial<ConnectionHttpParameters>

type ListSpec = {
  list: keyof ConnectionHttpParameters
  member: string
  path: string
  key: StringRule
  value: StringRule
}

const LISTS: readonly ListSpec[] = [
  {
    list: 'headers',
    member: 'HeaderParameters',
    path: 'headerParameters',
    key: HEADER_KEY,
    value: HEADER_VALUE,
  },
  {
    list: 'queryString',
    member: 'QueryStringParameters',
    path: 'queryStringParameters',
    key: QUERY_STRING_KEY,
    value: QUERY_STRING_VALUE,
  },
  { list: 'body', member: 'BodyParameters', path: 'bodyParameters', key: {}, value: {} },
]

/** A `ConnectionHttpParameters` member (InvocationHttpParameters, OAuthHttpParameters). */
function readHttpParameters(
  check: Checker,
  input: Input,
  member: string,
  path: string,
): HttpParametersInput | undefined {
  const params = check.object(input, member, path)
  if (!params) return undefined
  const out: HttpParametersInput = {}
  for (const spec of LISTS) {
    const v = params[spec.member]
    if (v === undefined || v === null) continue
    if (!Array.isArray(v))
      throw new BusError('SerializationException', `${spec.member} must be a list.`)
    const listPath = `${path}.${spec.path}`
    // The list's own text would show every value: reported without it.
    if (v.length > MAX_PARAMETERS)
      check.fail(
        REDACTED,
        listPath,
        `Member must have length less than or equal to ${String(MAX_PARAMETERS)}`,
      )
    out[spec.list] = v.map((item: unknown, i): ConnectionParameter => {
      if (typeof item !== 'object' || item === null || Array.isArray(item))
        throw new BusError('SerializationException', `${spec.member} must be a list of structures.`)
      const entry = item as Input
      const itemPath = `${listPath}.${String(i + 1)}.member`
      const key = check.string(entry, 'Key', `${itemPath}.key`, { required: true, ...spec.key })
      const value = secretString(check, entry, 'Value', `${itemPath}.value`, {
        required: true,
        ...spec.value,
      })
      const secret = check.boolean(entry, 'IsValueSecret')
      return { key: key ?? '', value: value ?? '', isValueSecret: secret ?? false }
    })
  }
  return out
}

/** Auth parameters as a request gives them; members absent from the request are undefined. */
export type AuthInput = {
  basic: { username: string | undefined; password: string | undefined } | undefined
  apiKey: { apiKeyName: string | undefined; apiKeyValue: string | undefined } | undefined
  oauth:
    | {
        clientId: string | undefined
        clientSecret: string | undefined
        authorizationEndpoint: string | undefined
        httpMethod: 'GET' | 'POST' | 'PUT' | undefined
        oauthHttpParameters: HttpParametersInput | undefined
      }
    | undefined
  invocation: HttpParametersInput | undefined
}

/** No auth parameters at all (an UpdateConnection without AuthParameters). */
export const NO_AUTH: AuthInput = {
  basic: undefined,
  apiKey: undefined,
  oauth: undefined,
  invocation: undefined,
}

/**
 * Reads `AuthParameters` (at path `authParameters`). The section of type `complete` must have
 * every member CreateConnection requires; other sections are read as UpdateConnection reads
 * them, members optional.
 */
export function readAuthParameters(
  check: Checker,
  auth: Input,
  complete: AuthorizationType | undefined,
): AuthInput {
  const base = 'authParameters'
  const basicIn = check.object(auth, 'BasicAuthParameters', `${base}.basicAuthParameters`)
  let required = complete === 'BASIC'
  const basic = basicIn && {
    username: check.string(basicIn, 'Username', `${base}.basicAuthParameters.username`, {
      required,
      ...AUTH_HEADER,
    }),
    password: secretString(check, basicIn, 'Password', `${base}.basicAuthParameters.password`, {
      required,
      ...AUTH_HEADER,
    }),
  }
  const apiKeyIn = check.object(auth, 'ApiKeyAuthParameters', `${base}.apiKeyAuthParameters`)
  required = complete === 'API_KEY'
  const apiKey = apiKeyIn && {
    apiKeyName: check.string(apiKeyIn, 'ApiKeyName', `${base}.apiKeyAuthParameters.apiKeyName`, {
      required,
      ...AUTH_HEADER,
    }),
    apiKeyValue: secretString(
      check,
      apiKeyIn,
      'ApiKeyValue',
      `${base}.apiKeyAuthParameters.apiKeyValue`,
      { required, ...AUTH_HEADER },
    ),
  }
  const oauthPath = `${base}.oAuthParameters`
  const oauthIn = check.object(auth, 'OAuthParameters', oauthPath)
  let oauth: AuthInput['oauth']
  required = complete === 'OAUTH_CLIENT_CREDENTIALS'
  if (oauthIn) {
    const clientPath = `${oauthPath}.clientParameters`
    const client = check.object(oauthIn, 'ClientParameters', clientPath, required)
    oauth = {
      clientId: client
        ? check.string(client, 'ClientID', `${clientPath}.clientID`, { required, ...AUTH_HEADER })
        : undefined,
      clientSecret: client
        ? secretString(check, client, 'ClientSecret', `${clientPath}.clientSecret`, {
            required,
            ...AUTH_HEADER,
          })
        : undefined,
      authorizationEndpoint: check.string(
        oauthIn,
        'AuthorizationEndpoint',
        `${oauthPath}.authorizationEndpoint`,
        { required, ...HTTPS_ENDPOINT },
      ),
      httpMethod: check.string(oauthIn, 'HttpMethod', `${oauthPath}.httpMethod`, {
        required,
        enum: OAUTH_HTTP_METHODS,
      }) as 'GET' | 'POST' | 'PUT' | undefined,
      oauthHttpParameters: readHttpParameters(
        check,
        oauthIn,
        'OAuthHttpParameters',
        `${oauthPath}.oAuthHttpParameters`,
      ),
    }
  }
  const invocation = readHttpParameters(
    check,
    auth,
    'InvocationHttpParameters',
    `${base}.invocationHttpParameters`,
  )
  return { basic, apiKey, oauth, invocation }
}

const SECTION: Record<AuthorizationType, string> = {
  BASIC: 'BasicAuthParameters',
  API_KEY: 'ApiKeyAuthParameters',
  OAUTH_CLIENT_CREDENTIALS: 'OAuthParameters',
}

/** The auth sections a request gave, by the type they belong to. */
export function sectionsGiven(auth: AuthInput): AuthorizationType[] {
  const given: AuthorizationType[] = []
  if (auth.basic) given.push('BASIC')
  if (auth.apiKey) given.push('API_KEY')
  if (auth.oauth) given.push('OAUTH_CLIENT_CREDENTIALS')
  return given
}

/**
 * Only the parameters of `type` may be given; `needed` also requires them (wording assumed: AWS
 * only documents "You must include only authorization parameters for the AuthorizationType you
 * specify").
 */
export function checkSections(
  auth: AuthInput,
  type: AuthorizationType,
  needed: boolean,
  verb: 'create' | 'update',
): void {
  const given = sectionsGiven(auth)
  const foreign = given.some((t) => t !== type)
  const missing = needed && !given.includes(type)
  if (foreign || missing)
    throw new BusError(
      'ValidationException',
      `Failed to ${verb} the connection(s). Parameter AuthParameters is not valid. Reason: ` +
        `AuthorizationType ${type} requires ${SECTION[type]} and no other authorization parameters.`,
    )
}

/** Junction accepts `http:` as well as `https:` (AWS: HTTPS only). */
export function checkEndpoint(
  endpoint: string,
  resource: 'api-destination' | 'connection',
  member: 'InvocationEndpoint' | 'AuthorizationEndpoint',
  verb: 'create' | 'update',
): void {
  let url: URL | undefined
  try {
    url = new URL(endpoint)
  } catch {
    url = undefined
  }
  const ok =
    url !== undefined &&
    (url.protocol === 'https:' || url.protocol === 'http:') &&
    url.hostname !== '' &&
    !url.hostname.includes('*') &&
    url.username === '' &&
    url.password === ''
  if (!ok)
    throw new BusError(
      'ValidationException',
      `Failed to ${verb} the ${resource}(s). Parameter ${member} is not valid. Reason: Endpoint ` +
        `'${endpoint}' is invalid, please provide a valid HTTPS endpoint URL.`,
    )
}

export const EMPTY_HTTP: ConnectionHttpParameters = { headers: [], queryString: [], body: [] }

/** `base` with the lists the request named replaced. */
export function mergeHttpParameters(
  base: ConnectionHttpParameters,
  given: HttpParametersInput | undefined,
): ConnectionHttpParameters {
  return {
    headers: given?.headers ?? base.headers,
    queryString: given?.queryString ?? base.queryString,
    body: given?.body ?? base.body,
  }
}

/** A complete auth of `type` from a request read with `complete` = `type` (CreateConnection). */
export function authFromInput(type: AuthorizationType, auth: AuthInput): ConnectionAuth {
  return mergeAuth(undefined, type, auth)
}

/**
 * `previous` (when of the same type) with what the request gave; with no previous auth of that
 * type the request must have been checked complete, so every member is present.
 */
export function mergeAuth(
  previous: ConnectionAuth | undefined,
  type: AuthorizationType,
  auth: AuthInput,
): ConnectionAuth {
  switch (type) {
    case 'BASIC': {
      const old = previous?.type === 'BASIC' ? previous : undefined
      return {
        type,
        username: auth.basic?.username ?? old?.username ?? '',
        password: auth.basic?.password ?? old?.password ?? '',
      }
    }
    case 'API_KEY': {
      const old = previous?.type === 'API_KEY' ? previous : undefined
      return {
        type,
        apiKeyName: auth.apiKey?.apiKeyName ?? old?.apiKeyName ?? '',
        apiKeyValue: auth.apiKey?.apiKeyValue ?? old?.apiKeyValue ?? '',
      }
    }
    case 'OAUTH_CLIENT_CREDENTIALS': {
      const old = previous?.type === 'OAUTH_CLIENT_CREDENTIALS' ? previous : undefined
      const o = auth.oauth
      return {
        type,
        authorizationEndpoint: o?.authorizationEndpoint ?? old?.authorizationEndpoint ?? '',
        httpMethod: o?.httpMethod ?? old?.httpMethod ?? 'POST',
        clientId: o?.clientId ?? old?.clientId ?? '',
        clientSecret: o?.clientSecret ?? old?.clientSecret ?? '',
        oauthHttpParameters: mergeHttpParameters(
          old?.oauthHttpParameters ?? EMPTY_HTTP,
          o?.oauthHttpParameters,
        ),
      }
    }
  }
}

// ── domain → response ────────────────────────────────────────────────────────

function parametersWire(list: ConnectionParameter[]) {
  return list.map((p) =>
    p.isValueSecret
      ? { Key: p.key, IsValueSecret: true }
      : { Key: p.key, Value: p.value, IsValueSecret: false },
  )
}

/** ConnectionHttpParameters with secret values left out; undefined when it holds nothing. */
export function httpParametersWire(p: ConnectionHttpParameters) {
  if (p.headers.length === 0 && p.queryString.length === 0 && p.body.length === 0) return undefined
  return compact({
    HeaderParameters: p.headers.length > 0 ? parametersWire(p.headers) : undefined,
    QueryStringParameters: p.queryString.length > 0 ? parametersWire(p.queryString) : undefined,
    BodyParameters: p.body.length > 0 ? parametersWire(p.body) : undefined,
  })
}

/** DescribeConnection's AuthParameters: the non-secret parts only. */
function authWire(c: Connection) {
  const a = c.auth
  let section: Record<string, unknown>
  switch (a.type) {
    case 'BASIC':
      section = { BasicAuthParameters: { Username: a.username } }
      break
    case 'API_KEY':
      section = { ApiKeyAuthParameters: { ApiKeyName: a.apiKeyName } }
      break
    case 'OAUTH_CLIENT_CREDENTIALS':
      section = {
        OAuthParameters: compact({
          ClientParameters: { ClientID: a.clientId },
          AuthorizationEndpoint: a.authorizationEndpoint,
          HttpMethod: a.httpMethod,
          OAuthHttpParameters: httpParametersWire(a.oauthHttpParameters),
        }),
      }
      break
  }
  return compact({
    ...section,
    InvocationHttpParameters: httpParametersWire(c.invocationHttpParameters),
  })
}

export function describeConnectionWire(c: Connection) {
  return compact({
    ConnectionArn: c.arn,
    Name: c.name,
    Description: c.description === '' ? undefined : c.description,
    ConnectionState: c.state,
    StateReason: c.stateReason,
    AuthorizationType: c.auth.type,
    SecretArn: c.secretArn,
    AuthParameters: authWire(c),
    CreationTime: seconds(c.createdAt),
    LastModifiedTime: seconds(c.modifiedAt),
    LastAuthorizedTime: c.lastAuthorizedAt === undefined ? undefined : seconds(c.lastAuthorizedAt),
  })
}

/** A ListConnections item. */
export function connectionSummaryWire(c: Connection) {
  return compact({
    ConnectionArn: c.arn,
    Name: c.name,
    ConnectionState: c.state,
    StateReason: c.stateReason,
    AuthorizationType: c.auth.type,
    CreationTime: seconds(c.createdAt),
    LastModifiedTime: seconds(c.modifiedAt),
    LastAuthorizedTime: c.lastAuthorizedAt === undefined ? undefined : seconds(c.lastAuthorizedAt),
  })
}

/** What Update/Deauthorize/DeleteConnection answer (`state` overrides the connection's). */
export function connectionStateWire(c: Connection, state: ConnectionState = c.state) {
  return compact({
    ConnectionArn: c.arn,
    ConnectionState: state,
    CreationTime: seconds(c.createdAt),
    LastModifiedTime: seconds(c.modifiedAt),
    LastAuthorizedTime: c.lastAuthorizedAt === undefined ? undefined : seconds(c.lastAuthorizedAt),
  })
}

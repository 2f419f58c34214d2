/**
 * @module
 * Connections: CreateConnection, DescribeConnection, UpdateConnection, DeleteConnection,
 * ListConnections, DeauthorizeConnection.
 *
 * Verified against AWS (LocalStack snapshots recorded on AWS, API reference):
 * - BASIC and API_KEY connections are AUTHORIZED at once; OAUTH_CLIENT_CREDENTIALS ones start
 *   AUTHORIZING while the token is fetched; DescribeConnection right after creating one shows
 *   `LastAuthorizedTime` even while AUTHORIZING, so it is set on creation for every type;
 * - CreateConnection answers ConnectionArn, ConnectionState, CreationTime, LastModifiedTime;
 *   DeleteConnection answers state DELETING (with LastAuthorizedTime) and the connection is gone
 *   for a DescribeConnection right after; UpdateConnection of BASIC credentials answers
 *   AUTHORIZED with LastAuthorizedTime;
 * - missing connection: `Failed to describe the connection(s). Connection '<name>' does not
 *   exist.`; ARN `…:connection/<name>/<uuid>`, secret ARN
 *   `arn:aws:secretsmanager:<region>:<account>:secret:events!connection/<name>/<uuid>-<6 chars>`;
 * - "De-authorizing a connection removes all authorization parameters" (user guide).
 *
 * Assumed (not found in AWS's documentation or recordings):
 * - the duplicate-name message `Connection '<name>' already exists.` (an emulator's wording;
 *   LocalStack's leaves out the quotes) and the not-found wording for Update, Delete and
 *   Deauthorize (the same as Describe's, as both emulators have it);
 * - deleting a connection that API destinations use is allowed; they turn INACTIVE;
 * - UpdateConnection re-authorizes when it names AuthorizationType or gives Basic, ApiKey or
 *   OAuth parameters; the given members replace the stored ones, the others stay; a change of
 *   AuthorizationType needs the new type's parameters complete; HTTP parameter lists that are
 *   named replace the stored list, lists not named stay;
 * - DeauthorizeConnection here is immediate (DEAUTHORIZED, not DEAUTHORIZING) and keeps the
 *   parameters, so a later UpdateConnection can merge into them; the cached OAuth token is
 *   dropped. KmsKeyIdentifier is checked but not kept (secrets stay in Junction's own store).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { connectionArn } from '../../arns.js'
import { BusError, notFound } from '../../errors.js'
import type { AuthorizationType, Connection, ConnectionState, Scope } from '../../model.js'
import type { Operation, RequestContext } from '../context.js'
import { page } from '../paging.js'
import {
  Checker,
  CONNECTION_NAME,
  DESCRIPTION,
  LIMIT,
  NEXT_TOKEN,
  type Input,
} from '../validate.js'
import {
  AUTHORIZATION_TYPES,
  authFromInput,
  checkEndpoint,
  checkSections,
  CONNECTION_STATES,
  connectionStateWire,
  connectionSummaryWire,
  describeConnectionWire,
  EMPTY_HTTP,
  finish,
  KMS_KEY_IDENTIFIER,
  mergeAuth,
  mergeHttpParameters,
  NO_AUTH,
  readAuthParameters,
  sectionsGiven,
  type AuthInput,
} from './connection-wire.js'
import { compact, seconds } from './wire.js'

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** Where AWS would keep the connection's secret: a Secrets Manager ARN with a 6-character tail. */
function secretArn(scope: Scope, name: string): string {
  const tail = [...randomBytes(6)].map((b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('')
  return `arn:aws:secretsmanager:${scope.region}:${scope.account}:secret:events!connection/${name}/${randomUUID()}-${tail}`
}

/** The connection named in the request, in the caller's account and region. */
function requireConnection(ctx: RequestContext, name: string): Connection {
  const c = ctx.services.registry.connectionByName(ctx.scope, name)
  if (!c)
    throw notFound(`Failed to describe the connection(s). Connection '${name}' does not exist.`)
  return c
}

function readName(check: Checker, input: Input): string {
  const name = check.string(input, 'Name', 'name', { required: true, ...CONNECTION_NAME })
  return name ?? ''
}

/**
 * Starts the OAuth token fetch without waiting for it: the service records AUTHORIZED or
 * DEAUTHORIZED (with the reason) on the connection itself, so a failure has nowhere else to go.
 */
function startAuthorization(ctx: RequestContext, arn: string): void {
  try {
    void ctx.services.connections.authorize(arn).catch(() => {
      // Recorded on the connection by the service (state DEAUTHORIZED, StateReason).
    })
  } catch {
    // A service that throws before returning its promise: the connection stays AUTHORIZING.
  }
}

function checkOAuthEndpoint(auth: AuthInput, verb: 'create' | 'update'): void {
  const endpoint = auth.oauth?.authorizationEndpoint
  if (endpoint !== undefined) checkEndpoint(endpoint, 'connection', 'AuthorizationEndpoint', verb)
}

const createConnection: Operation = async (ctx, input) => {
  const check = new Checker()
  const name = readName(check, input)
  const description = check.string(input, 'Description', 'description', DESCRIPTION)
  const type = check.string(input, 'AuthorizationType', 'authorizationType', {
    required: true,
    enum: AUTHORIZATION_TYPES,
  }) as AuthorizationType | undefined
  const authIn = check.object(input, 'AuthParameters', 'authParameters', true)
  check.string(input, 'KmsKeyIdentifier', 'kmsKeyIdentifier', KMS_KEY_IDENTIFIER)
  const auth = authIn ? readAuthParameters(check, authIn, type) : NO_AUTH
  finish(check)
  const authType = type! // required: present once the checker passed
  checkSections(auth, authType, true, 'create')
  checkOAuthEndpoint(auth, 'create')

  const { registry, clock } = ctx.services
  if (registry.connectionByName(ctx.scope, name))
    throw new BusError('ResourceAlreadyExistsException', `Connection '${name}' already exists.`)
  const now = clock.now()
  const oauth = authType === 'OAUTH_CLIENT_CREDENTIALS'
  const connection: Connection = {
    name,
    arn: connectionArn(ctx.scope, name, randomUUID()),
    account: ctx.scope.account,
    region: ctx.scope.region,
    auth: authFromInput(authType, auth),
    invocationHttpParameters: mergeHttpParameters(EMPTY_HTTP, auth.invocation),
    state: oauth ? 'AUTHORIZING' : 'AUTHORIZED',
    secretArn: secretArn(ctx.scope, name),
    createdAt: now,
    modifiedAt: now,
    lastAuthorizedAt: now,
  }
  if (description !== undefined && description !== '') connection.description = description
  await registry.putConnection(connection)
  if (oauth) startAuthorization(ctx, connection.arn)
  return {
    ConnectionArn: connection.arn,
    ConnectionState: connection.state,
    CreationTime: seconds(connection.createdAt),
    LastModifiedTime: seconds(connection.modifiedAt),
  }
}

const describeConnection: Operation = (ctx, input) => {
  const check = new Checker()
  const name = readName(check, input)
  check.done()
  return describeConnectionWire(requireConnection(ctx, name))
}

const updateConnection: Operation = async (ctx, input) => {
  const check = new Checker()
  const name = readName(check, input)
  const description = check.string(input, 'Description', 'description', DESCRIPTION)
  const type = check.string(input, 'AuthorizationType', 'authorizationType', {
    enum: AUTHORIZATION_TYPES,
  }) as AuthorizationType | undefined
  const authIn = check.object(input, 'AuthParameters', 'authParameters')
  check.string(input, 'KmsKeyIdentifier', 'kmsKeyIdentifier', KMS_KEY_IDENTIFIER)
  const auth = authIn ? readAuthParameters(check, authIn, undefined) : NO_AUTH
  finish(check)

  const old = requireConnection(ctx, name)
  const newType = type ?? old.auth.type
  const typeChanged = newType !== old.auth.type
  checkSections(auth, newType, typeChanged, 'update')
  if (typeChanged && authIn) {
    // Nothing of the old type carries over: the new type's parameters must be complete.
    const complete = new Checker()
    readAuthParameters(complete, authIn, newType)
    finish(complete)
  }
  checkOAuthEndpoint(auth, 'update')

  const { registry, clock, connections } = ctx.services
  const reauthorize = type !== undefined || sectionsGiven(auth).length > 0
  const now = clock.now()
  const next: Connection = {
    ...old,
    auth: reauthorize ? mergeAuth(old.auth, newType, auth) : old.auth,
    invocationHttpParameters: mergeHttpParameters(old.invocationHttpParameters, auth.invocation),
    modifiedAt: now,
  }
  if (description === '') delete next.description
  else if (description !== undefined) next.description = description
  const oauth = newType === 'OAUTH_CLIENT_CREDENTIALS'
  if (reauthorize) {
    delete next.stateReason
    next.state = oauth ? 'AUTHORIZING' : 'AUTHORIZED'
    if (!oauth) next.lastAuthorizedAt = now
    // Before storing: a token fetch still running for the old credentials must not count.
    connections.forget(old.arn)
  }
  await registry.putConnection(next)
  if (reauthorize && oauth) startAuthorization(ctx, next.arn)
  return connectionStateWire(next)
}

const deauthorizeConnection: Operation = async (ctx, input) => {
  const check = new Checker()
  const name = readName(check, input)
  check.done()
  const old = requireConnection(ctx, name)
  const { registry, clock, connections } = ctx.services
  connections.forget(old.arn)
  const next: Connection = { ...old, state: 'DEAUTHORIZED', modifiedAt: clock.now() }
  delete next.stateReason
  await registry.putConnection(next)
  return connectionStateWire(next)
}

const deleteConnection: Operation = async (ctx, input) => {
  const check = new Checker()
  const name = readName(check, input)
  check.done()
  const old = requireConnection(ctx, name)
  ctx.services.connections.forget(old.arn)
  await ctx.services.registry.deleteConnection(old)
  return connectionStateWire(old, 'DELETING')
}

const listConnections: Operation = (ctx, input) => {
  const check = new Checker()
  const prefix = check.string(input, 'NamePrefix', 'namePrefix', CONNECTION_NAME)
  const state = check.string(input, 'ConnectionState', 'connectionState', {
    enum: CONNECTION_STATES,
  }) as ConnectionState | undefined
  const token = check.string(input, 'NextToken', 'nextToken', NEXT_TOKEN)
  const limit = check.integer(input, 'Limit', 'limit', LIMIT)
  check.done()
  const all = ctx.services.registry
    .listConnections(ctx.scope)
    .filter(
      (c) =>
        (prefix === undefined || c.name.startsWith(prefix)) &&
        (state === undefined || c.state === state),
    )
  const { items, nextToken } = page(all, token, limit)
  return compact({ Connections: items.map(connectionSummaryWire), NextToken: nextToken })
}

export const connectionOperations: Record<string, Operation> = {
  CreateConnection: createConnection,
  DescribeConnection: describeConnection,
  UpdateConnection: updateConnection,
  DeleteConnection: deleteConnection,
  ListConnections: listConnections,
  DeauthorizeConnection: deauthorizeConnection,
}

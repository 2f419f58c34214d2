/**
 * @module
 * API destinations: CreateApiDestination, DescribeApiDestination, UpdateApiDestination,
 * DeleteApiDestination, ListApiDestinations.
 *
 * Verified against AWS (LocalStack snapshots recorded on AWS):
 * - `ApiDestinationState` is ACTIVE while the connection is AUTHORIZED and INACTIVE otherwise
 *   (seen INACTIVE while an OAuth connection is AUTHORIZING); it is computed on every read here,
 *   so it follows the connection's state;
 * - `InvocationRateLimitPerSecond` defaults to 300; ListApiDestinations items carry no
 *   Description; DeleteApiDestination answers `{}`;
 * - missing destination: `Failed to describe the api-destination(s). An api-destination '<name>'
 *   does not exist.`; a bad ConnectionArn / HttpMethod is a ValidationException naming
 *   `connectionArn` / `httpMethod` (two errors in one message);
 * - a bad endpoint: `Failed to create the api-destination(s). Parameter InvocationEndpoint is not
 *   valid. Reason: Endpoint '<url>' is invalid, please provide a valid HTTPS endpoint URL.`
 *
 * Assumed (an emulator's wording, not confirmed on AWS):
 * - duplicate name: `Failed to create the api-destination(s). An api-destination with name
 *   '<name>' already exists.`;
 * - unknown connection: `Failed to <verb> the api-destination(s). Connection '<arn>' does not
 *   exist.` (also when the ARN names another account or region, or a deleted incarnation);
 * - Update and Delete of a missing destination use their own verb in the not-found message;
 * - NamePrefix and ConnectionArn together filter by both (one emulator refuses the pair).
 *
 * Junction differs from AWS on purpose: `http://` endpoints are accepted, and the rate limit has
 * no ceiling (AWS caps it at the account's quota, 300 by default).
 */
import { randomUUID } from 'node:crypto'
import { apiDestinationArn } from '../../arns.js'
import { BusError, notFound } from '../../errors.js'
import type { ApiDestination, Connection, HttpMethod } from '../../model.js'
import type { Operation, RequestContext } from '../context.js'
import { page } from '../paging.js'
import {
  Checker,
  CONNECTION_NAME,
  DESCRIPTION,
  LIMIT,
  NEXT_TOKEN,
  type Input,
  type NumberRule,
  type StringRule,
} from '../validate.js'
import {
  API_DESTINATION_HTTP_METHODS,
  checkEndpoint,
  CONNECTION_ARN,
  HTTPS_ENDPOINT,
} from './connection-wire.js'
import { compact, seconds } from './wire.js'

/** ApiDestinationName: the same shape as a connection name. */
const API_DESTINATION_NAME: StringRule = CONNECTION_NAME
const RATE_LIMIT: NumberRule = { min: 1 }
const DEFAULT_RATE_LIMIT = 300

type Verb = 'create' | 'describe' | 'update' | 'delete'

function requireDestination(ctx: RequestContext, name: string, verb: Verb): ApiDestination {
  const d = ctx.services.registry.apiDestinationByName(ctx.scope, name)
  if (!d)
    throw notFound(
      `Failed to ${verb} the api-destination(s). An api-destination '${name}' does not exist.`,
    )
  return d
}

/** The connection an ARN names, which must be the caller's (same account and region). */
function requireConnection(ctx: RequestContext, arn: string, verb: Verb): Connection {
  const c = ctx.services.registry.connection(arn)
  if (!c || c.account !== ctx.scope.account || c.region !== ctx.scope.region)
    throw notFound(`Failed to ${verb} the api-destination(s). Connection '${arn}' does not exist.`)
  return c
}

/** ACTIVE while its connection is authorized; a deleted connection leaves it INACTIVE. */
function stateOf(ctx: RequestContext, d: ApiDestination): 'ACTIVE' | 'INACTIVE' {
  return ctx.services.registry.connection(d.connectionArn)?.state === 'AUTHORIZED'
    ? 'ACTIVE'
    : 'INACTIVE'
}

function readName(check: Checker, input: Input): string {
  return check.string(input, 'Name', 'name', { required: true, ...API_DESTINATION_NAME }) ?? ''
}

/** The settable members; `required` for CreateApiDestination. */
function readSettings(check: Checker, input: Input, required: boolean) {
  return {
    description: check.string(input, 'Description', 'description', DESCRIPTION),
    connectionArn: check.string(input, 'ConnectionArn', 'connectionArn', {
      required,
      ...CONNECTION_ARN,
    }),
    endpoint: check.string(input, 'InvocationEndpoint', 'invocationEndpoint', {
      required,
      ...HTTPS_ENDPOINT,
    }),
    method: check.string(input, 'HttpMethod', 'httpMethod', {
      required,
      enum: API_DESTINATION_HTTP_METHODS,
    }) as HttpMethod | undefined,
    rate: check.integer(input, 'InvocationRateLimitPerSecond', 'invocationRateLimitPerSecond', {
      ...RATE_LIMIT,
    }),
  }
}

function stateWire(ctx: RequestContext, d: ApiDestination) {
  return {
    ApiDestinationArn: d.arn,
    ApiDestinationState: stateOf(ctx, d),
    CreationTime: seconds(d.createdAt),
    LastModifiedTime: seconds(d.modifiedAt),
  }
}

/** A ListApiDestinations item (DescribeApiDestination adds Description). */
function summaryWire(ctx: RequestContext, d: ApiDestination) {
  return {
    ApiDestinationArn: d.arn,
    Name: d.name,
    ApiDestinationState: stateOf(ctx, d),
    ConnectionArn: d.connectionArn,
    InvocationEndpoint: d.invocationEndpoint,
    HttpMethod: d.httpMethod,
    InvocationRateLimitPerSecond: d.invocationRateLimitPerSecond,
    CreationTime: seconds(d.createdAt),
    LastModifiedTime: seconds(d.modifiedAt),
  }
}

const createApiDestination: Operation = async (ctx, input) => {
  const check = new Checker()
  const name = readName(check, input)
  const s = readSettings(check, input, true)
  check.done()
  const connectionArn = s.connectionArn!
  const endpoint = s.endpoint!
  checkEndpoint(endpoint, 'api-destination', 'InvocationEndpoint', 'create')
  const { registry, clock } = ctx.services
  if (registry.apiDestinationByName(ctx.scope, name))
    throw new BusError(
      'ResourceAlreadyExistsException',
      `Failed to create the api-destination(s). An api-destination with name '${name}' already exists.`,
    )
  requireConnection(ctx, connectionArn, 'create')
  const now = clock.now()
  const d: ApiDestination = {
    name,
    arn: apiDestinationArn(ctx.scope, name, randomUUID()),
    account: ctx.scope.account,
    region: ctx.scope.region,
    connectionArn,
    invocationEndpoint: endpoint,
    httpMethod: s.method!,
    invocationRateLimitPerSecond: s.rate ?? DEFAULT_RATE_LIMIT,
    createdAt: now,
    modifiedAt: now,
  }
  if (s.description !== undefined && s.description !== '') d.description = s.description
  await registry.putApiDestination(d)
  return stateWire(ctx, d)
}

const describeApiDestination: Operation = (ctx, input) => {
  const check = new Checker()
  const name = readName(check, input)
  check.done()
  const d = requireDestination(ctx, name, 'describe')
  const { ApiDestinationArn, Name, ...rest } = summaryWire(ctx, d)
  return compact({
    ApiDestinationArn,
    Name,
    Description: d.description === '' ? undefined : d.description,
    ...rest,
  })
}

const updateApiDestination: Operation = async (ctx, input) => {
  const check = new Checker()
  const name = readName(check, input)
  const s = readSettings(check, input, false)
  check.done()
  if (s.endpoint !== undefined)
    checkEndpoint(s.endpoint, 'api-destination', 'InvocationEndpoint', 'update')
  const old = requireDestination(ctx, name, 'update')
  if (s.connectionArn !== undefined) requireConnection(ctx, s.connectionArn, 'update')
  const next: ApiDestination = { ...old, modifiedAt: ctx.services.clock.now() }
  if (s.description === '') delete next.description
  else if (s.description !== undefined) next.description = s.description
  if (s.connectionArn !== undefined) next.connectionArn = s.connectionArn
  if (s.endpoint !== undefined) next.invocationEndpoint = s.endpoint
  if (s.method !== undefined) next.httpMethod = s.method
  if (s.rate !== undefined) next.invocationRateLimitPerSecond = s.rate
  await ctx.services.registry.putApiDestination(next)
  return stateWire(ctx, next)
}

const deleteApiDestination: Operation = async (ctx, input) => {
  const check = new Checker()
  const name = readName(check, input)
  check.done()
  const d = requireDestination(ctx, name, 'delete')
  await ctx.services.registry.deleteApiDestination(d)
  return {}
}

const listApiDestinations: Operation = (ctx, input) => {
  const check = new Checker()
  const prefix = check.string(input, 'NamePrefix', 'namePrefix', API_DESTINATION_NAME)
  const connectionArn = check.string(input, 'ConnectionArn', 'connectionArn', CONNECTION_ARN)
  const token = check.string(input, 'NextToken', 'nextToken', NEXT_TOKEN)
  const limit = check.integer(input, 'Limit', 'limit', LIMIT)
  check.done()
  const all = ctx.services.registry
    .listApiDestinations(ctx.scope)
    .filter(
      (d) =>
        (prefix === undefined || d.name.startsWith(prefix)) &&
        (connectionArn === undefined || d.connectionArn === connectionArn),
    )
  const { items, nextToken } = page(all, token, limit)
  return compact({
    ApiDestinations: items.map((d) => summaryWire(ctx, d)),
    NextToken: nextToken,
  })
}

export const apiDestinationOperations: Record<string, Operation> = {
  CreateApiDestination: createApiDestination,
  DescribeApiDestination: describeApiDestination,
  UpdateApiDestination: updateApiDestination,
  DeleteApiDestination: deleteApiDestination,
  ListApiDestinations: listApiDestinations,
}

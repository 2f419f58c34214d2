/**
 * @module
 * Replays: StartReplay, DescribeReplay, ListReplays, CancelReplay (reference §8.2). The replay
 * itself runs in `archive/replays.ts`.
 *
 * Junction's extension: StartReplay also reads an optional `JunctionSpeed` member (a number;
 * 0 or absent replays as fast as possible, as AWS does; N spaces the events as their times were,
 * divided by N). AWS clients never send it, so the API they see is unchanged.
 */
import { MAX_ACTIVE_REPLAYS, replayArn } from '../../archive/replays.js'
import { BusError, invalid, notFound } from '../../errors.js'
import type { Replay, ReplayState } from '../../model.js'
import type { Operation, RequestContext } from '../context.js'
import { page } from '../paging.js'
import {
  ARN,
  Checker,
  DESCRIPTION,
  LIMIT,
  NAME_PATTERN,
  NEXT_TOKEN,
  type StringRule,
} from '../validate.js'
import { exclusiveFilters, requireSourceBus } from './archives.js'
import { compact, fromTimestamp, seconds } from './wire.js'

const REPLAY_NAME: StringRule = { min: 1, max: 64, ...NAME_PATTERN }
const STATES = ['STARTING', 'RUNNING', 'CANCELLING', 'COMPLETED', 'CANCELLED', 'FAILED'] as const

function requireReplay(ctx: RequestContext, name: string): Replay {
  const replay = ctx.services.replays.get(ctx.scope, name)
  if (!replay) throw notFound(`Replay ${name} does not exist.`)
  return replay
}

/** A required timestamp member, in ms. */
function timestamp(check: Checker, input: Record<string, unknown>, member: string, path: string) {
  const v = input[member]
  if (v === undefined || v === null) {
    check.fail(undefined, path, 'Member must not be null')
    return undefined
  }
  const ms = fromTimestamp(v)
  if (ms === undefined)
    throw new BusError('SerializationException', `${member} must be a timestamp.`)
  return ms
}

const startReplay: Operation = async (ctx, input) => {
  const check = new Checker()
  const name = check.string(input, 'ReplayName', 'replayName', { required: true, ...REPLAY_NAME })
  const description = check.string(input, 'Description', 'description', DESCRIPTION)
  const source = check.string(input, 'EventSourceArn', 'eventSourceArn', { required: true, ...ARN })
  const start = timestamp(check, input, 'EventStartTime', 'eventStartTime')
  const end = timestamp(check, input, 'EventEndTime', 'eventEndTime')
  const destination = check.object(input, 'Destination', 'destination', true)
  const destArn =
    destination && check.string(destination, 'Arn', 'destination.arn', { required: true, ...ARN })
  const filterArns =
    destination && check.stringList(destination, 'FilterArns', 'destination.filterArns', ARN)
  const speed = input.JunctionSpeed
  if (
    speed !== undefined &&
    (typeof speed !== 'number' || !(speed >= 0) || !Number.isFinite(speed))
  )
    check.fail(speed, 'junctionSpeed', 'Member must be a number greater than or equal to 0')
  check.done()
  if (end! <= start!)
    throw invalid(
      'Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.',
    )
  const { archives, replays, clock } = ctx.services
  const archive = archives.byArn(source!)
  if (!archive || archive.account !== ctx.scope.account || archive.region !== ctx.scope.region)
    throw invalid(
      `Parameter EventSourceArn is not valid. Reason: Archive ${source!.split('/').pop() ?? ''} does not exist.`,
    )
  const bus = requireSourceBus(ctx, destArn!)
  if (bus.arn !== archive.sourceArn)
    throw invalid(
      'Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.',
    )
  const arn = replayArn(ctx.scope, name!)
  if (replays.get(ctx.scope, name!))
    throw new BusError('ResourceAlreadyExistsException', `Replay ${name!} already exists.`)
  if (replays.activeCount(ctx.scope) >= MAX_ACTIVE_REPLAYS)
    throw new BusError(
      'LimitExceededException',
      'The requested resource exceeds the maximum number allowed.',
    )
  const replay: Replay = compact({
    name: name!,
    arn,
    account: ctx.scope.account,
    region: ctx.scope.region,
    description,
    archiveArn: archive.arn,
    destinationArn: bus.arn,
    filterArns,
    eventStartTime: start!,
    eventEndTime: end!,
    state: 'STARTING' as const,
    replayStartTime: clock.now(),
    speed: typeof speed === 'number' ? speed : 0,
  })
  await replays.begin(replay)
  return { ReplayArn: arn, State: replay.state, ReplayStartTime: seconds(replay.replayStartTime) }
}

function replayWire(r: Replay) {
  return compact({
    ReplayName: r.name,
    ReplayArn: r.arn,
    Description: r.description,
    State: r.state,
    StateReason: r.stateReason,
    EventSourceArn: r.archiveArn,
    Destination: compact({ Arn: r.destinationArn, FilterArns: r.filterArns }),
    EventStartTime: seconds(r.eventStartTime),
    EventEndTime: seconds(r.eventEndTime),
    EventLastReplayedTime:
      r.eventLastReplayedTime === undefined ? undefined : seconds(r.eventLastReplayedTime),
    ReplayStartTime: seconds(r.replayStartTime),
    ReplayEndTime: r.replayEndTime === undefined ? undefined : seconds(r.replayEndTime),
  })
}

const describeReplay: Operation = (ctx, input) => {
  const check = new Checker()
  const name = check.string(input, 'ReplayName', 'replayName', { required: true, ...REPLAY_NAME })
  check.done()
  return replayWire(requireReplay(ctx, name!))
}

const listReplays: Operation = (ctx, input) => {
  const check = new Checker()
  const prefix = check.string(input, 'NamePrefix', 'namePrefix', REPLAY_NAME)
  const state = check.string(input, 'State', 'state', { enum: STATES }) as ReplayState | undefined
  const source = check.string(input, 'EventSourceArn', 'eventSourceArn', ARN)
  const token = check.string(input, 'NextToken', 'nextToken', NEXT_TOKEN)
  const limit = check.integer(input, 'Limit', 'limit', LIMIT)
  check.done()
  exclusiveFilters(input, ['NamePrefix', 'EventSourceArn', 'State'], 'ListReplays')
  const replays = ctx.services.replays
    .list(ctx.scope)
    .filter(
      (r) =>
        (prefix === undefined || r.name.startsWith(prefix)) &&
        (state === undefined || r.state === state) &&
        (source === undefined || r.archiveArn === source),
    )
  const p = page(replays, token, limit)
  return compact({
    Replays: p.items.map((r) => {
      const w = replayWire(r)
      return compact({
        ReplayName: w.ReplayName,
        EventSourceArn: w.EventSourceArn,
        State: w.State,
        StateReason: w.StateReason,
        EventStartTime: w.EventStartTime,
        EventEndTime: w.EventEndTime,
        EventLastReplayedTime: w.EventLastReplayedTime,
        ReplayStartTime: w.ReplayStartTime,
        ReplayEndTime: w.ReplayEndTime,
      })
    }),
    NextToken: p.nextToken,
  })
}

const cancelReplay: Operation = async (ctx, input) => {
  const check = new Checker()
  const name = check.string(input, 'ReplayName', 'replayName', { required: true, ...REPLAY_NAME })
  check.done()
  const replay = requireReplay(ctx, name!)
  if (replay.state !== 'STARTING' && replay.state !== 'RUNNING')
    throw new BusError(
      'IllegalStatusException',
      `Replay ${replay.name} is not in a valid state for this operation.`,
    )
  await ctx.services.replays.cancel(replay)
  return { ReplayArn: replay.arn, State: 'CANCELLING' }
}

export const replayOperations: Record<string, Operation> = {
  StartReplay: startReplay,
  DescribeReplay: describeReplay,
  ListReplays: listReplays,
  CancelReplay: cancelReplay,
}

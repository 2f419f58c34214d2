/**
 * @module
 * The composition root: the only file that picks a store adapter and wires the stages
 * (api → ingest → store → dispatcher → target adapters) into a running bus.
 */
import { mkdtempSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { hostname, tmpdir } from 'node:os'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { pino, type Logger } from 'pino'
import type { Services } from './api/context.js'
import { createRequestListener } from './api/server.js'
import { Archives } from './archive/archives.js'
import { queryArchive } from './archive/query.js'
import { Replays } from './archive/replays.js'
import { createAuthenticator } from './auth/caller.js'
import { ManualClock, systemClock, type Clock } from './clock.js'
import { checkConfig, type ServeConfig } from './config.js'
import { CredentialsFile } from './auth/credentials.js'
import { Leadership } from './cluster/leadership.js'
import { Dispatcher } from './delivery/dispatcher.js'
import { createApiDestinationAdapter } from './delivery/targets/api-destination.js'
import { createEventBusAdapter } from './delivery/targets/event-bus.js'
import { createSqsAdapter } from './delivery/targets/sqs.js'
import { Ingest } from './engine/ingest.js'
import type { AsyncInvoker, FunctionDirectory } from './functions/directory.js'
import { createFunctionEvents } from './functions/function-events.js'
import type { FunctionRunner } from './functions/runner.js'
import { Registry } from './engine/registry.js'
import { createMetrics, type Metrics } from './observe/metrics.js'
import { TailHub } from './observe/tail.js'
import { DEFAULT_MAX_PATTERN_LENGTH } from './pattern/index.js'
import { Queues } from './queue/queues.js'
import type { QueueService } from './queue/service.js'
import { RuleScheduler } from './schedule/rule-scheduler.js'
import { scheduleInvocation, scheduleRoute, SCHEDULE_TARGET_ID } from './schedule/invocation.js'
import { ScheduleRunner } from './schedule/schedule-runner.js'
import { Schedules } from './schedule/schedules.js'
import { Stacks } from './deploy/stack-store.js'
import { createSinkService } from './sink/index.js'
import { Functions } from './functions/functions.js'
import { createProcessRunner } from './functions/runtime/index.js'
import { withSharedCode } from './functions/shared-code.js'
import type { Store } from './store/ports.js'
import { openStore, type OpenedStore } from './store/open.js'
import { NatsQueues } from './store/nats/queues.js'
import { Sources } from './cdc/sources.js'
import { SourceRunner } from './cdc/runner.js'
import { openers, slotDroppers } from './cdc/openers.js'

export type BusOptions = Omit<ServeConfig, 'host' | 'port' | 'logLevel'> & {
  /** Junction's own URL, for functions' `AWS_ENDPOINT_URL` (startServer fills it once listening). */
  endpointUrl?: () => string
  /** The store can no longer write (its writer thread died): the bus has stopped answering. */
  onFatal?: (error: Error) => void
  clock?: Clock
  log?: Logger
  fetch?: typeof fetch
  random?: () => number
  /** Lambda functions: what events invoke (rule targets, event source mappings). */
  functions?: { directory: FunctionDirectory; runner: FunctionRunner }
  /**
   * A store the caller opened, used instead of the one `store` names (a store shared with other
   * nodes opens asynchronously, with settings of its own). The bus closes it.
   */
  openedStore?: Store
}

/** The manual clock's controls (`--clock manual`), for the `/junction/clock` call. */
export type ClockControl = {
  readonly manual: boolean
  now(): number
  /** Moves a manual clock forward, letting what each timer starts finish before going on. */
  advance(ms: number): Promise<void>
}

export type Bus = {
  services: Services
  clock: ClockControl
  scheduler: RuleScheduler
  /** Fires EventBridge Scheduler's schedules. */
  schedules: ScheduleRunner
  queues: QueueService
  metrics: Metrics
  tail: TailHub
  store: Store
  log: Logger
  /** Queued asynchronous invocations (InvocationType Event), when functions are configured. */
  asyncInvoker?: AsyncInvoker
  listener: ReturnType<typeof createRequestListener>
  /**
   * Stops: refuses new requests, waits (up to `timeoutMs` each) for requests being answered and
   * deliveries in flight, then closes the store. Undelivered jobs stay in it for the next start.
   */
  close(timeoutMs?: number): Promise<void>
}

export async function createBus(options: BusOptions): Promise<Bus> {
  const manualClock =
    options.clock === undefined && options.clockKind === 'manual'
      ? new ManualClock(Date.now())
      : undefined
  const clock = options.clock ?? manualClock ?? systemClock
  const log = options.log ?? pino({ level: 'silent' })
  checkConfig(options)
  // Read before the store opens: a bad file stops the start with its reason.
  const credentials =
    options.auth === 'sigv4' && options.credentialsFile !== undefined
      ? new CredentialsFile(options.credentialsFile, log)
      : undefined
  const health = { open: true }
  const opened: OpenedStore = options.openedStore
    ? { store: options.openedStore, reachable: () => true }
    : await openStore({
        ...options,
        log,
        onFatal(e) {
          health.open = false
          options.onFatal?.(e)
        },
      })
  const { store } = opened
  let registry: Registry
  let queues: QueueService
  try {
    registry = await Registry.load(store.config, () => clock.now())
    if (opened.nats)
      queues = await NatsQueues.open(
        opened.nats.nc,
        { events: store.events, clock, log },
        { replicas: opened.nats.replicas },
      )
    else if (store.queues)
      queues = await Queues.load({
        store: store.queues,
        events: store.events,
        clock,
        log,
        window: options.queueWindow,
      })
    else throw new Error(`the ${store.kind} store given has no queues`)
  } catch (e) {
    // Release the store (and the data directory's lock) for whoever tries next.
    await store.close().catch(() => undefined)
    throw e
  }
  const schedules = new Schedules(store.config, () => clock.now())
  // Packages beside the store's file; the memory store's go to a fresh temporary directory.
  const functionsRoot =
    store.kind === 'memory'
      ? mkdtempSync(join(tmpdir(), 'junction-functions-'))
      : join(options.dataDir, 'functions')
  const functionDirectory = new Functions(store.config, functionsRoot, store.code)
  const processRunner = createProcessRunner({
    endpointUrl: options.endpointUrl ?? (() => ''),
    credentialsFor: (account) => credentials?.keyPairFor(account),
    maxInstances: options.functionConcurrency ?? 64,
    idleMs: options.functionIdleMs ?? 5 * 60_000,
    log,
  })
  // Nodes sharing a store run each other's functions: packages come from the store.
  const functionRunner = store.code
    ? withSharedCode(processRunner, store.code, functionsRoot, log)
    : processRunner
  const metrics = createMetrics()
  const organizationOf = (account: string) => credentials?.organizationOf(account)
  const tail = new TailHub()
  let jobId = await store.events.maxJobId()

  const apiDestinations = createApiDestinationAdapter({
    clock,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    directory: {
      apiDestination: (arn) => registry.apiDestination(arn),
      connection: (arn) => registry.connection(arn),
      setConnectionState(arn, state, stateReason, authorizedAt, basedOn) {
        // One change at a time with the API's (see Registry.exclusive), and only on the version
        // of the connection the outcome came from.
        registry
          .exclusive(async () => {
            const c = registry.connection(arn)
            if (!c || (basedOn !== undefined && c.modifiedAt !== basedOn)) return
            const next = { ...c, state }
            if (stateReason === undefined) delete next.stateReason
            else next.stateReason = stateReason
            if (authorizedAt !== undefined) next.lastAuthorizedAt = authorizedAt
            await registry.putConnection(next)
          })
          .catch((e: unknown) => {
            log.error({ err: e, connection: arn }, 'could not record the connection state')
          })
      },
    },
  })

  // Database sinks (a Junction extension target): definitions, pools, their adapter.
  const sinkService = createSinkService(store.config)
  // The dispatcher and ingest need each other (bus targets ingest again); ingest is set below.
  const late: { ingest?: Ingest } = {}
  // --- functions: asynchronous invocations, Lambda targets, event source mappings ---
  const functionEvents = createFunctionEvents({
    directory: options.functions?.directory ?? functionDirectory,
    runner: options.functions?.runner ?? functionRunner,
    queues,
    clock,
    log,
    enqueue: (event, owner, targetId) => late.ingest!.enqueueInvocation(event, owner, targetId),
    putEvents: (scope, entries) => late.ingest!.putEvents(scope, entries),
  })
  // --- end functions ---
  const dispatcher = new Dispatcher({
    registry,
    store: store.events,
    clock,
    metrics,
    log,
    maxWindow: options.deliveryWindow,
    ...(opened.jobWindow ? { window: opened.jobWindow } : {}),
    ...(options.random ? { random: options.random } : {}),
    route: (arn, targetId) => {
      const fnRoute = functionEvents.route(arn, targetId)
      if (fnRoute) return fnRoute
      if (targetId !== SCHEDULE_TARGET_ID || !arn.startsWith('arn:aws:scheduler:')) return undefined
      const schedule = schedules.byArn(arn)
      return schedule && scheduleRoute(schedule)
    },
    // Into the queue the target names; kept in the store until that queue exists.
    deadLetter: async (letter) => {
      if (await queues.deadLetter(letter)) {
        // Where the queues are not in the job store's transaction (NATS), the job ends here.
        if (!queues.finishesJobs) await store.events.finish([letter.job.id])
        return 'queued'
      }
      await store.events.deadLetter(letter)
      return 'kept'
    },
    adapters: [
      apiDestinations,
      createSqsAdapter(queues),
      functionEvents.adapter,
      createEventBusAdapter({
        organizationOf,
        bus: (scope, name) => registry.bus(scope, name),
        forward: (event, envelope, bus) => late.ingest!.forward(event, envelope, bus),
      }),
      sinkService.adapter,
    ],
  })
  const ingest = new Ingest({
    registry,
    store: store.events,
    metrics,
    tail,
    now: () => clock.now(),
    maxRequestSize: options.maxRequestSize,
    deliver: (items) => {
      dispatcher.submit(items)
    },
    nextJobId: () => ++jobId,
    organizationOf,
  })

  late.ingest = ingest

  const archives = new Archives({
    registry,
    store: store.archives,
    config: store.config,
    clock,
    onPurgeError: (e) => {
      log.error({ err: e }, 'archive retention purge failed; the next one tries again')
    },
  })
  // This node among those sharing the store (lease holders' names).
  const nodeId = `${hostname()}/${String(process.pid)}/${randomUUID().slice(0, 8)}`
  const leases = store.leases
  const replays = new Replays({
    ...(leases && {
      claims: {
        hold: (arn: string) => leases.hold(replayLease(arn), nodeId),
        release: (arn: string) => leases.release(replayLease(arn), nodeId),
        renewEveryMs: Math.max(50, Math.floor(leases.ttlMs / 3)),
      },
    }),
    archiveKey: (arn) => archives.byArn(arn)?.key,
    registry,
    ingest,
    store: store.archives,
    config: store.config,
    clock,
    onError: (e, replay) => {
      log.error({ err: e, replay }, 'replay failed')
    },
  })
  const stacks = new Stacks(store.config)
  // --- change-capture sources (src/cdc/) ---
  const sources = new Sources(store.config)
  const sourceRunner = new SourceRunner({
    sources,
    config: store.config,
    capture: (bus, changes, extras) => ingest.capture(bus, changes, extras),
    bus: (scope, name) => registry.bus(scope, name),
    metrics,
    log,
    now: () => clock.now(),
    maxEventBytes: options.maxRequestSize,
    openers,
    slotDroppers,
    ...(leases
      ? {
          lead: (name: string, onGain: () => void, onLose: () => void) =>
            new Leadership({ leases, name, holder: nodeId, log, onGain, onLose }),
        }
      : {}),
  })
  // --- end change-capture sources ---
  try {
    const entries = await store.config.load()
    archives.load(entries)
    stacks.load(entries)
    sinkService.sinks.load(entries)
    sources.load(entries)
    sourceRunner.load(entries)
    replays.load(entries)
    schedules.load(entries)
    functionDirectory.load(entries)
    // Local code directories are watched again: a change replaces the function's instances.
    functionDirectory.watchLocalCode({
      changed: (fn) => {
        functionRunner.updated(fn)
      },
      log,
      now: () => clock.now(),
    })
  } catch (e) {
    await store.close().catch(() => undefined)
    throw e
  }
  // What other nodes sharing the store change is taken in as this node's own changes are.
  store.config.watch?.((op) => {
    registry.changed(op)
    archives.changed(op)
    replays.changed(op)
    schedules.changed(op)
    stacks.changed(op)
    sinkService.sinks.changed(op)
    sources.changed(op)
    sourceRunner.changed(op)
    const fn = functionDirectory.changed(op)
    if (fn && 'updated' in fn) functionRunner.updated(fn.updated)
    else if (fn) functionRunner.removed(fn.removed)
  })
  const dataFile = store.file
  const scheduler = new RuleScheduler({
    registry,
    store: store.events,
    fire: (rule, tick) => ingest.fireSchedule(rule, tick),
    clock,
    metrics,
    log,
    graceMs: options.scheduleGraceMs,
  })
  const scheduleRunner = new ScheduleRunner({
    schedules,
    exclusive: (fn) => registry.exclusive(fn),
    purgeCompleted: () => registry.exclusive(() => schedules.purgeCompleted()),
    store: store.events,
    fire: (schedule, tick) =>
      ingest.fireScheduled(
        scheduleInvocation(schedule, tick, clock.now()),
        schedule.arn,
        SCHEDULE_TARGET_ID,
        tick,
      ),
    clock,
    metrics,
    log,
    graceMs: options.scheduleGraceMs,
  })
  const clockControl: ClockControl = {
    manual: manualClock !== undefined,
    now: () => clock.now(),
    async advance(ms) {
      if (!manualClock) throw new Error('the clock is not manual')
      await manualClock.advanceStepwise(ms, async () => {
        // What the timer started (a tick's commit on the writer thread) finishes first.
        await scheduler.settled()
        await scheduleRunner.settled()
        await new Promise((resolve) => setImmediate(resolve))
      })
    },
  }

  const services: Services = {
    registry,
    ingest,
    dispatcher,
    clock,
    archives,
    replays,
    schedules,
    stacks,
    sinks: sinkService.sinks,
    sources: {
      sources,
      exclusive: (fn) => registry.exclusive(fn),
      now: () => clock.now(),
      busExists: (scope, name) => registry.bus(scope, name) !== undefined,
      status: (def) => sourceRunner.status(def),
      remove: (scope, name, dropSlot) =>
        registry.exclusive(() => sourceRunner.remove(scope, name, dropSlot)),
    },
    functions: {
      directory: functionDirectory,
      runner: functionRunner,
      async: functionEvents.asyncInvoker,
    },
    ...(dataFile === undefined
      ? {}
      : { queryArchive: (key, sql, opts) => queryArchive(dataFile, key, sql, opts) }),
    connections: {
      authorize: (arn) => apiDestinations.authorize(arn),
      forget: (arn) => {
        apiDestinations.forget(arn)
      },
    },
    limits: {
      maxRequestSize: options.maxRequestSize,
      maxTargetsPerRule: 5,
      maxRulesPerBus: 300,
      maxPatternLength: DEFAULT_MAX_PATTERN_LENGTH,
    },
  }

  // API requests being answered; a stop waits for them (not for tail streams, which never end).
  let answering = 0
  const idle: (() => void)[] = []
  const handle = createRequestListener({
    services,
    queues,
    authenticate: createAuthenticator(
      { account: options.defaultAccount, region: options.region },
      // Signatures are about real time, also when the bus runs on a manual clock.
      credentials ? { credentials, now: Date.now } : undefined,
    ),
    metrics,
    tail,
    log,
    ready: () => health.open && opened.reachable(),
    whyNotReady: () =>
      health.open ? 'The store is out of reach; try again.' : 'The server is stopping.',
    clock: clockControl,
  })
  const listener: typeof handle = (req, res) => {
    // Writes (Scheduler's REST-JSON also PUTs and DELETEs); not GETs, as tail streams never end.
    if (req.method === 'POST' || req.method === 'PUT' || req.method === 'DELETE') {
      answering++
      let counted = true
      const done = () => {
        if (!counted) return
        counted = false
        if (--answering === 0) for (const f of idle.splice(0)) f()
      }
      res.once('finish', done)
      res.once('close', done)
    }
    handle(req, res)
  }
  const drained = (timeoutMs: number) =>
    answering === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs)
          idle.push(() => {
            clearTimeout(timer)
            resolve()
          })
        })

  // Deliveries owed from before the last stop or crash: counted (an index scan, tens of ms for
  // a million), never loaded; the dispatcher pages them in as its window has room.
  const pending = await store.events.pendingCount()
  if (pending > 0) log.info({ pending }, 'resuming deliveries')
  dispatcher.start()
  archives.start()
  await replays.start()
  // Schedules fire on one node: where one process owns the store, this one; where nodes share
  // it, the node that holds the `schedules` lease, for as long as it holds it.
  const startSchedules = async () => {
    await scheduler.start()
    if (scheduler.size > 0) log.info({ rules: scheduler.size }, 'scheduled rules running')
    await scheduleRunner.start()
    if (scheduleRunner.size > 0) log.info({ schedules: scheduleRunner.size }, 'schedules running')
  }
  const leadership =
    store.leases &&
    new Leadership({
      leases: store.leases,
      name: 'schedules',
      holder: nodeId,
      log,
      onGain: () => {
        startSchedules().catch((e: unknown) => {
          log.error({ err: e }, 'could not start the schedules')
        })
      },
      onLose: () => {
        scheduler.stop()
        scheduleRunner.stop()
      },
    })
  if (leadership) leadership.start()
  else await startSchedules()
  functionEvents.start()
  sourceRunner.start()

  return {
    services,
    clock: clockControl,
    scheduler,
    schedules: scheduleRunner,
    queues,
    metrics,
    tail,
    store,
    log,
    asyncInvoker: functionEvents.asyncInvoker,
    listener,
    async close(timeoutMs = 5000) {
      // New requests get 503 (clients retry it); requests already accepted get their answers.
      health.open = false
      // Long polls end now (empty, as when their wait runs out) rather than hold the stop.
      queues.close()
      await functionEvents.stop(timeoutMs)
      await leadership?.stop()
      scheduler.stop()
      scheduleRunner.stop()
      await drained(timeoutMs)
      await sourceRunner.stop()
      archives.stop()
      await replays.stop()
      await scheduler.settled()
      await scheduleRunner.settled()
      await dispatcher.stop(timeoutMs)
      await sinkService.close()
      functionDirectory.close()
      await functionRunner.close(timeoutMs)
      await store.close()
    },
  }
}

export type RunningServer = { bus: Bus; server: Server; url: string; close(): Promise<void> }

/** Starts a bus behind an HTTP server; resolves once it is listening (and /health answers 200). */
export async function startServer(
  config: ServeConfig & {
    clock?: Clock
    log?: Logger
    onFatal?: (error: Error) => void
    /** Longest a client may take to send a request's headers (tests shorten it). */
    headersTimeoutMs?: number
  },
): Promise<RunningServer> {
  const log = config.log ?? pino({ level: config.logLevel })
  // Known once listening; functions started before then cannot be invoked yet anyway.
  let endpoint = ''
  const bus = await createBus({ ...config, log, endpointUrl: () => endpoint })
  const server = createServer(
    {
      keepAliveTimeout: 65_000,
      // A client that trickles its request in (a slow-loris) is cut off instead of holding a
      // connection for node's defaults (60 s for headers, 5 minutes for the whole request).
      headersTimeout: config.headersTimeoutMs ?? 10_000,
      requestTimeout: 60_000,
      // How often those limits are looked at (node's default, 30 s, would let them run over).
      connectionsCheckingInterval: Math.min(
        1000,
        Math.ceil((config.headersTimeoutMs ?? 10_000) / 4),
      ),
    },
    bus.listener,
  )
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${String(address.port)}`
  endpoint = url
  log.info(
    { url, store: config.store, dataDir: config.store === 'sqlite' ? config.dataDir : undefined },
    'junction is listening',
  )
  let closing: Promise<void> | undefined
  return {
    bus,
    server,
    url,
    close() {
      closing ??= (async () => {
        // Stop taking requests, let answers in progress finish, then hand back deliveries.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        server.closeIdleConnections()
        await bus.close()
        server.closeAllConnections()
        await closed
        log.info('junction stopped')
      })()
      return closing
    },
  }
}

/** A replay's lease name (lease names are key-value keys: no `:`). */
function replayLease(arn: string): string {
  return `replay.${Buffer.from(arn).toString('base64url')}`
}

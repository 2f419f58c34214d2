/**
 * @module
 * Service A (account 111111111111): publishes NEW_WIDGET events to its own default bus with the
 * AWS SDK for JavaScript v3, as any application on AWS would. Its rule (a.yaml) forwards them to
 * the central account.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge'
import type { Widget } from './widgets.js'

/** PutEvents takes at most 10 entries per call. */
const PER_CALL = 10

/** Publishes the widgets; the EventIds, or throws naming the entries the bus refused. */
export async function publishWidgets(
  client: EventBridgeClient,
  widgets: Widget[],
): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < widgets.length; i += PER_CALL) {
    const out = await client.send(
      new PutEventsCommand({
        Entries: widgets.slice(i, i + PER_CALL).map((detail) => ({
          Source: 'cwi.servicea',
          DetailType: 'NEW_WIDGET',
          Detail: JSON.stringify(detail),
        })),
      }),
    )
    const failed = (out.Entries ?? []).filter((e) => e.ErrorCode !== undefined)
    if (failed.length > 0 || out.FailedEntryCount)
      throw new Error(
        `PutEvents refused ${String(out.FailedEntryCount)} entries: ${failed.map((f) => `${f.ErrorCode ?? ''} ${f.ErrorMessage ?? ''}`).join('; ')}`,
      )
    for (const e of out.Entries ?? []) ids.push(e.EventId!)
  }
  return ids
}

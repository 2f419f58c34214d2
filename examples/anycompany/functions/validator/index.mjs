/**
 * The central account's validator, a Lambda function (Node.js). A rule sends it every
 * NEW_WIDGET event that service A forwards. It checks the event's detail against the JSON
 * Schema of AnyCompany's criteria (../../schema/widget.json, read in place: this directory is
 * deployed as it is, and `ajv` resolves from the project's node_modules):
 *
 * - a valid widget is re-published on the central bus with the source `valid.cw.servicea` (an
 *   event that arrived from another bus is never forwarded again, so the central rules to B and
 *   C act on this new event), with the widget's own time as the event's time;
 * - an invalid one goes to the invalid-widgets queue with the reason, in the body and as the
 *   `reason` message attribute.
 *
 * The clients find Junction (AWS_ENDPOINT_URL) and the account's credentials in the
 * environment, as on AWS.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge'
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import Ajv from 'ajv'
import { readFileSync } from 'node:fs'

const schema = JSON.parse(
  readFileSync(new URL('../../schema/widget.json', import.meta.url), 'utf8'),
)
const validate = new Ajv({ allErrors: true }).compile(schema)
const events = new EventBridgeClient({})
const sqs = new SQSClient({})

export async function handler(event) {
  const detail = event.detail
  if (validate(detail)) {
    const out = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: process.env.VALID_SOURCE ?? 'valid.cw.servicea',
            DetailType: event['detail-type'],
            Detail: JSON.stringify(detail),
            Time: new Date(detail.time),
            Resources: [`urn:anycompany:widget:${detail.widget_id}`],
          },
        ],
      }),
    )
    // A refused entry is an error, so Lambda retries the event.
    if (out.FailedEntryCount)
      throw new Error(`PutEvents refused: ${out.Entries?.[0]?.ErrorMessage}`)
    console.log(`valid ${detail.widget_id}: re-published as ${out.Entries?.[0]?.EventId}`)
    return { valid: true }
  }
  const reason = (validate.errors ?? [])
    .map(
      (e) =>
        `${e.instancePath === '' ? 'detail' : `detail${e.instancePath.replaceAll('/', '.')}`} ${e.message}`,
    )
    .join('; ')
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: process.env.INVALID_QUEUE_URL,
      MessageBody: JSON.stringify({ reason, event }),
      MessageAttributes: {
        reason: { DataType: 'String', StringValue: reason },
        eventId: { DataType: 'String', StringValue: event.id },
      },
    }),
  )
  console.log(`invalid ${JSON.stringify(detail?.widget_id ?? null)}: ${reason}`)
  return { valid: false, reason }
}

/**
 * @module
 * Queues and dead letters, through SQS's own API: each queue with its counts, a peek at its
 * messages with their attributes (a dead letter's ERROR_CODE and ERROR_MESSAGE shown as the
 * reason), redrive of a message to its source, and purge.
 *
 * A peek is a ReceiveMessage with a visibility timeout of 0: the messages stay available, but
 * their receive counts go up, as with the AWS console's "poll for messages". A redrive is the
 * same three calls the CLI would make: receive the message, send it to the source, delete it.
 * The source is the TARGET_ARN of an EventBridge dead letter (when that target is a queue), or
 * else the queue whose RedrivePolicy names this one.
 */
import { useCallback, useEffect, useState } from 'react'
import { ApiError, sqs, type Identity } from '../aws/client.js'
import { parseArn } from '../config.js'
import { ErrorText } from './BusPicker.js'

type Attr = { StringValue?: string; DataType?: string }
type Message = {
  MessageId: string
  ReceiptHandle: string
  Body: string
  Attributes?: Record<string, string>
  MessageAttributes?: Record<string, Attr>
}
type QueueRow = { url: string; name: string; attributes: Record<string, string> }

const nameOf = (url: string) => url.slice(url.lastIndexOf('/') + 1)

export function Queues(props: { id: Identity }) {
  const { id } = props
  const [queues, setQueues] = useState<QueueRow[]>([])
  const [open, setOpen] = useState<string | undefined>()
  const [messages, setMessages] = useState<Message[] | undefined>()
  const [error, setError] = useState<unknown>()
  const [notice, setNotice] = useState<string | undefined>()

  const reload = useCallback(async () => {
    const out = await sqs<{ QueueUrls?: string[] }>(id, 'ListQueues', { MaxResults: 1000 })
    const rows = await Promise.all(
      (out.QueueUrls ?? []).map(async (url) => {
        const a = await sqs<{ Attributes?: Record<string, string> }>(id, 'GetQueueAttributes', {
          QueueUrl: url,
          AttributeNames: ['All'],
        })
        return { url, name: nameOf(url), attributes: a.Attributes ?? {} }
      }),
    )
    setQueues(rows)
  }, [id])
  useEffect(() => {
    reload().catch(setError)
  }, [reload])

  const peek = async (url: string) => {
    setError(undefined)
    setNotice(undefined)
    setOpen(url)
    const out = await sqs<{ Messages?: Message[] }>(id, 'ReceiveMessage', {
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      AttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    })
    setMessages(out.Messages ?? [])
  }

  /** Where a message of this queue goes back to, as a queue URL. */
  const sourceOf = async (queueUrl: string, m: Message): Promise<string> => {
    const target = m.MessageAttributes?.TARGET_ARN?.StringValue
    if (target !== undefined) {
      const arn = parseArn(target)
      if (arn.service !== 'sqs')
        throw new ApiError(
          'NotAQueue',
          `The failed target ${target} is not a queue: put the event on its bus again to retry it.`,
          400,
        )
      const out = await sqs<{ QueueUrl: string }>(id, 'GetQueueUrl', {
        QueueName: arn.resource,
        QueueOwnerAWSAccountId: arn.account,
      })
      return out.QueueUrl
    }
    const out = await sqs<{ queueUrls?: string[] }>(id, 'ListDeadLetterSourceQueues', {
      QueueUrl: queueUrl,
    })
    const first = out.queueUrls?.[0]
    if (first === undefined)
      throw new ApiError('NoSource', 'No queue names this one as its dead-letter queue.', 400)
    return first
  }

  const redrive = async (queueUrl: string, m: Message) => {
    setError(undefined)
    const to = await sourceOf(queueUrl, m)
    // Hold the message while it moves, so that nobody else takes it meanwhile.
    let held: Message | undefined
    for (let tries = 0; tries < 5 && held === undefined; tries++) {
      const out = await sqs<{ Messages?: Message[] }>(id, 'ReceiveMessage', {
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 30,
      })
      for (const got of out.Messages ?? []) {
        if (got.MessageId === m.MessageId) held = got
        else
          await sqs(id, 'ChangeMessageVisibility', {
            QueueUrl: queueUrl,
            ReceiptHandle: got.ReceiptHandle,
            VisibilityTimeout: 0,
          })
      }
    }
    if (!held) throw new ApiError('NotFound', 'The message is no longer in the queue.', 404)
    await sqs(id, 'SendMessage', { QueueUrl: to, MessageBody: held.Body })
    await sqs(id, 'DeleteMessage', { QueueUrl: queueUrl, ReceiptHandle: held.ReceiptHandle })
    await peek(queueUrl)
    await reload()
    setNotice(`Message ${m.MessageId} sent back to ${nameOf(to)}.`)
  }

  const purge = async (url: string) => {
    if (!confirm(`Delete every message of ${nameOf(url)}?`)) return
    await sqs(id, 'PurgeQueue', { QueueUrl: url })
    setNotice(`${nameOf(url)} purged.`)
    setMessages([])
    await reload()
  }

  return (
    <section className="queues">
      <div className="toolbar">
        <button onClick={() => void reload().catch(setError)}>Refresh</button>
      </div>
      <ErrorText error={error} />
      {notice !== undefined && (
        <p className="ok" data-testid="queue-notice">
          {notice}
        </p>
      )}
      <table className="rows">
        <thead>
          <tr>
            <th>queue</th>
            <th>available</th>
            <th>in flight</th>
            <th>delayed</th>
            <th>dead letters go to</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {queues.map((q) => (
            <tr key={q.url} data-testid={`queue-${q.name}`}>
              <td>{q.name}</td>
              <td data-testid="available">{q.attributes.ApproximateNumberOfMessages}</td>
              <td>{q.attributes.ApproximateNumberOfMessagesNotVisible}</td>
              <td>{q.attributes.ApproximateNumberOfMessagesDelayed}</td>
              <td>{redriveTarget(q.attributes.RedrivePolicy)}</td>
              <td>
                <button data-testid="peek" onClick={() => void peek(q.url).catch(setError)}>
                  Peek
                </button>{' '}
                <button data-testid="purge" onClick={() => void purge(q.url).catch(setError)}>
                  Purge
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {open !== undefined && messages !== undefined && (
        <div data-testid="messages">
          <h3>
            {nameOf(open)}:{' '}
            {messages.length === 0 ? 'no messages' : `${String(messages.length)} shown`}
          </h3>
          {messages.map((m) => {
            const attr = (k: string) => m.MessageAttributes?.[k]?.StringValue
            const reason = attr('ERROR_CODE')
            return (
              <article key={m.MessageId} className="message" data-testid={`message-${m.MessageId}`}>
                {reason !== undefined && (
                  <p className="error" data-testid="reason">
                    {reason}: {attr('ERROR_MESSAGE')}
                  </p>
                )}
                <p>
                  <code>{m.MessageId}</code>, received{' '}
                  {m.Attributes?.ApproximateReceiveCount ?? '?'} times
                  {attr('RULE_ARN') !== undefined && <>, rule {attr('RULE_ARN')}</>}
                  {attr('TARGET_ARN') !== undefined && <>, target {attr('TARGET_ARN')}</>}
                  {attr('RETRY_ATTEMPTS') !== undefined && <>, {attr('RETRY_ATTEMPTS')} retries</>}
                </p>
                <pre>{m.Body}</pre>
                <details>
                  <summary>attributes</summary>
                  <pre>{JSON.stringify({ ...m.Attributes, ...m.MessageAttributes }, null, 2)}</pre>
                </details>
                <button data-testid="redrive" onClick={() => void redrive(open, m).catch(setError)}>
                  Redrive to the source
                </button>
              </article>
            )
          })}
        </div>
      )}
    </section>
  )
}

function redriveTarget(policy: string | undefined): string {
  if (policy === undefined || policy === '') return ''
  try {
    const p = JSON.parse(policy) as { deadLetterTargetArn?: string; maxReceiveCount?: number }
    return `${parseArn(p.deadLetterTargetArn ?? '').resource} after ${String(p.maxReceiveCount)}`
  } catch {
    return policy
  }
}

/**
 * @module
 * A dead letter as the message EventBridge puts on a DLQ: the event as the body, and why it
 * failed as String message attributes (the data type every implementation uses; AWS does not
 * document one).
 */
import type { DeadLetter } from '../store/ports.js'
import type { MessageAttributeValue } from './model.js'

export function deadLetterAttributes(letter: DeadLetter): Record<string, MessageAttributeValue> {
  const text = (stringValue: string): MessageAttributeValue => ({ dataType: 'String', stringValue })
  const attributes: Record<string, MessageAttributeValue> = {
    RULE_ARN: text(letter.ruleArn),
    TARGET_ARN: text(letter.targetArn),
    ERROR_CODE: text(letter.errorCode),
    ERROR_MESSAGE: text(letter.errorMessage),
    RETRY_ATTEMPTS: text(String(letter.retryAttempts)),
  }
  // Only when a retry limit ended the delivery, not for failures that are never retried.
  if (letter.exhaustedRetryCondition !== undefined)
    attributes.EXHAUSTED_RETRY_CONDITION = text(letter.exhaustedRetryCondition)
  return attributes
}

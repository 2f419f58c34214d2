"""The boto3 side of test/e2e/sqs-boto3.e2e.test.ts (run with /usr/bin/python3: Debian's boto3 1.26,
whose SQS client speaks the query protocol).

Usage: sqs_boto3_flow.py PHASE ENDPOINT_URL < input.json

The TypeScript test passes its values as JSON on stdin, runs one phase per process, and asserts on
the JSON this script prints on stdout: each call's response without ResponseMetadata, or for a
service error {"error": {"Code", "Message", "Type", "HTTPStatusCode", "Class"}} as botocore parsed
it, plus the epoch-millisecond times the test needs (`*_at`). The script decides nothing: a call
whose answer a later step needs and did not get ends the phase with an error. Credentials and
region come from the environment the test sets.
"""

import json
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def now():
    return int(time.time() * 1000)


def call(fn, **kwargs):
    """A call's response (minus ResponseMetadata) or the ClientError botocore raised."""
    try:
        response = fn(**kwargs)
    except ClientError as e:
        return {
            "error": {
                "Code": e.response["Error"]["Code"],
                "Message": e.response["Error"]["Message"],
                "Type": e.response["Error"].get("Type"),
                "HTTPStatusCode": e.response["ResponseMetadata"]["HTTPStatusCode"],
                "Class": type(e).__name__,
            }
        }
    response.pop("ResponseMetadata", None)
    return {"response": response}


def need(outcome, *path):
    """A value a later call needs from an outcome; stops the phase if it is not there."""
    value = outcome.get("response")
    try:
        for key in path:
            value = value[key]
    except (KeyError, IndexError, TypeError):
        raise SystemExit(f"no {'.'.join(map(str, path))} in {json.dumps(outcome)[:1000]}")
    return value


def messages(outcome):
    return (outcome.get("response") or {}).get("Messages", [])


def create(sqs, name, **kwargs):
    out = call(sqs.create_queue, QueueName=name, **kwargs)
    return out, need(out, "QueueUrl")


def arn_of(sqs, url):
    out = call(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["QueueArn"])
    return out, need(out, "Attributes", "QueueArn")


COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]


def flow(sqs, events, s):
    """Two queues as the targets of one rule (whole event; InputTransformer), then PutEvents."""
    out = {"create_queue": {}, "get_queue_attributes": {}}
    urls, arns = {}, {}
    for key, name in s["queues"].items():
        out["create_queue"][key], urls[key] = create(sqs, name)
        out["get_queue_attributes"][key], arns[key] = arn_of(sqs, urls[key])
    bus = s["bus"]
    out["create_event_bus"] = call(events.create_event_bus, Name=bus)
    out["put_rule"] = call(
        events.put_rule, Name=s["rule"], EventBusName=bus, EventPattern=s["pattern"]
    )
    targets = [{**t, "Arn": arns[t["Id"]]} for t in s["targets"]]
    out["put_targets"] = call(events.put_targets, Rule=s["rule"], EventBusName=bus, Targets=targets)
    out["sent_after"] = now()
    out["put_events"] = call(events.put_events, Entries=s["entries"])
    out["sent_before"] = now()
    out["receive"] = {}
    for key, url in urls.items():
        out["receive"][key] = call(
            sqs.receive_message,
            QueueUrl=url,
            AttributeNames=["All"],
            MaxNumberOfMessages=10,
            WaitTimeSeconds=10,
        )
    out["received_before"] = now()
    out["delete"] = {}
    for key, url in urls.items():
        handle = need(out["receive"][key], "Messages", 0, "ReceiptHandle")
        out["delete"][key] = call(sqs.delete_message, QueueUrl=url, ReceiptHandle=handle)
    out["counts"] = call(sqs.get_queue_attributes, QueueUrl=urls["whole"], AttributeNames=COUNTS)
    out["again"] = call(sqs.receive_message, QueueUrl=urls["whole"], WaitTimeSeconds=1)
    return out


def dlq(sqs, events, s):
    """An API destination that fails, its target dead-lettering into a queue."""
    out = {}
    out["create_queue"], url = create(sqs, s["queue"])
    out["get_queue_attributes"], arn = arn_of(sqs, url)
    out["create_connection"] = call(events.create_connection, **s["connection"])
    conn = need(out["create_connection"], "ConnectionArn")
    out["create_api_destination"] = call(
        events.create_api_destination, ConnectionArn=conn, **s["destination"]
    )
    dest = need(out["create_api_destination"], "ApiDestinationArn")
    out["put_rule"] = call(events.put_rule, Name=s["rule"], EventPattern=s["pattern"])
    target = {
        "Id": "hook",
        "Arn": dest,
        "DeadLetterConfig": {"Arn": arn},
        "RetryPolicy": {"MaximumRetryAttempts": 0},
    }
    out["put_targets"] = call(events.put_targets, Rule=s["rule"], Targets=[target])
    out["sent_after"] = now()
    out["put_events"] = call(events.put_events, Entries=[s["entry"]])
    out["sent_before"] = now()
    out["receive"] = call(
        sqs.receive_message,
        QueueUrl=url,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
        WaitTimeSeconds=10,
    )
    out["received_before"] = now()
    return out


def fifo(sqs, events, s):
    """Two message groups, a duplicate, and receives while messages are in flight."""
    out = {"started_at": now()}
    out["create_queue"], url = create(
        sqs, s["queue"], Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )
    out["attributes"] = call(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["All"])
    out["send"] = [
        call(sqs.send_message, QueueUrl=url, MessageBody=body, MessageGroupId=group)
        for group, body in s["sends"]
    ]

    def receive(n):
        return call(
            sqs.receive_message, QueueUrl=url, AttributeNames=["All"], MaxNumberOfMessages=n
        )

    out["first"] = receive(1)
    out["second"] = receive(10)
    out["third"] = receive(10)
    handle = need(out["first"], "Messages", 0, "ReceiptHandle")
    out["delete"] = call(sqs.delete_message, QueueUrl=url, ReceiptHandle=handle)
    out["fourth"] = receive(10)
    out["received_before"] = now()
    rest = messages(out["second"]) + messages(out["fourth"])
    if rest:
        out["delete_batch"] = call(
            sqs.delete_message_batch,
            QueueUrl=url,
            Entries=[
                {"Id": f"m{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(rest)
            ],
        )
    out["counts"] = call(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=COUNTS)
    return out


def visibility(sqs, events, s):
    """Received with VisibilityTimeout 1: hidden, back after a second; then visibility 0."""
    out = {}
    out["create_queue"], url = create(sqs, s["queue"])
    out["sent_after"] = now()
    out["send"] = call(sqs.send_message, QueueUrl=url, MessageBody=s["body"])
    out["first_at"] = now()
    out["first"] = call(
        sqs.receive_message, QueueUrl=url, AttributeNames=["All"], VisibilityTimeout=1
    )
    out["first_done_at"] = now()
    out["hidden"] = call(sqs.receive_message, QueueUrl=url)
    out["hidden_counts"] = call(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=COUNTS)
    out["hidden_done_at"] = now()
    out["back"] = call(
        sqs.receive_message,
        QueueUrl=url,
        AttributeNames=["All"],
        WaitTimeSeconds=5,
        VisibilityTimeout=60,
    )
    out["back_at"] = now()
    handle = need(out["back"], "Messages", 0, "ReceiptHandle")
    out["change"] = call(
        sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0
    )
    out["shown"] = call(sqs.receive_message, QueueUrl=url, AttributeNames=["All"])
    return out


def redrive(sqs, events, s):
    """maxReceiveCount 1: the second receive moves the message to the dead-letter queue."""
    out = {}
    out["create_dlq"], dlq_url = create(sqs, s["dlq"])
    _, dlq_arn = arn_of(sqs, dlq_url)
    policy = s["policy"].replace("DLQ_ARN", dlq_arn)
    out["create_source"], url = create(sqs, s["source"], Attributes={"RedrivePolicy": policy})
    out["redrive_policy"] = call(
        sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["RedrivePolicy"]
    )
    out["sent_after"] = now()
    out["send"] = call(sqs.send_message, QueueUrl=url, MessageBody=s["body"])
    out["first"] = call(
        sqs.receive_message, QueueUrl=url, AttributeNames=["All"], VisibilityTimeout=0
    )
    out["second"] = call(sqs.receive_message, QueueUrl=url, AttributeNames=["All"])
    out["moved"] = call(
        sqs.receive_message, QueueUrl=dlq_url, AttributeNames=["All"], WaitTimeSeconds=5
    )
    out["received_before"] = now()
    out["sources"] = call(sqs.list_dead_letter_source_queues, QueueUrl=dlq_url)
    return out


def batches(sqs, events, s):
    """SendMessageBatch with failing entries; DeleteMessageBatch."""
    out = {}
    out["create_queue"], url = create(sqs, s["queue"])
    out["send_batch"] = call(sqs.send_message_batch, QueueUrl=url, Entries=s["entries"])
    received = []
    for _ in range(5):
        r = call(sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2)
        received += messages(r)
        if len(received) >= s["expect"]:
            break
    out["received"] = received
    out["delete_batch"] = call(
        sqs.delete_message_batch,
        QueueUrl=url,
        Entries=[
            {"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)
        ],
    )
    out["counts"] = call(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=COUNTS)
    out["create_small"], small = create(
        sqs, s["small"], Attributes={"MaximumMessageSize": "1024"}
    )
    out["send_batch_small"] = call(
        sqs.send_message_batch, QueueUrl=small, Entries=s["small_entries"]
    )
    return out


def errors(sqs, events, s):
    out = {}
    out["create_queue"], url = create(sqs, s["queue"], Attributes={"VisibilityTimeout": "30"})
    out["missing"] = call(sqs.get_queue_url, QueueName=s["missing"])
    out["eleven"] = call(sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=11)
    out["same"] = call(
        sqs.create_queue, QueueName=s["queue"], Attributes={"VisibilityTimeout": "30"}
    )
    out["exists"] = call(
        sqs.create_queue, QueueName=s["queue"], Attributes={"VisibilityTimeout": "45"}
    )
    out["unknown_attribute"] = call(
        sqs.create_queue, QueueName=s["unknown"], Attributes={"Foo": "bar"}
    )
    out["garbage_handle"] = call(sqs.delete_message, QueueUrl=url, ReceiptHandle="garbage")
    out["purge"] = call(sqs.purge_queue, QueueUrl=url)
    out["purge_again"] = call(sqs.purge_queue, QueueUrl=url)
    return out


def tags(sqs, events, s):
    out = {}
    out["create_tagged"], url = create(sqs, s["tagged"], tags=s["create_tags"])
    out["create_other"] = [call(sqs.create_queue, QueueName=name) for name in s["others"]]
    out["tag"] = call(sqs.tag_queue, QueueUrl=url, Tags=s["add_tags"])
    out["listed"] = call(sqs.list_queue_tags, QueueUrl=url)
    out["untag"] = call(sqs.untag_queue, QueueUrl=url, TagKeys=s["remove_keys"])
    out["listed_after"] = call(sqs.list_queue_tags, QueueUrl=url)
    out["list_queues"] = call(sqs.list_queues, QueueNamePrefix=s["prefix"])
    return out


PHASES = {
    "flow": flow,
    "dlq": dlq,
    "fifo": fifo,
    "visibility": visibility,
    "redrive": redrive,
    "batches": batches,
    "errors": errors,
    "tags": tags,
}


def main():
    phase, endpoint = sys.argv[1], sys.argv[2]
    scenario = json.load(sys.stdin)
    config = Config(connect_timeout=10, read_timeout=30)
    sqs = boto3.client("sqs", endpoint_url=endpoint, config=config)
    events = boto3.client("events", endpoint_url=endpoint, config=config)
    result = PHASES[phase](sqs, events, scenario)
    json.dump(
        {"boto3": boto3.__version__, "result": result}, sys.stdout, default=str, ensure_ascii=False
    )


if __name__ == "__main__":
    main()

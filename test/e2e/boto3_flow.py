"""The boto3 side of test/e2e/boto3.e2e.test.ts (run with /usr/bin/python3: Debian's boto3 1.26).

Usage: boto3_flow.py PHASE ENDPOINT_URL < input.json

The TypeScript test passes the scenario's values as JSON on stdin (scenario.ts is the one source
of them), runs one phase, and asserts on the JSON this script prints on stdout: each call's
response without ResponseMetadata, or for a service error {"error": {"Code", "Message",
"HTTPStatusCode", "Class"}} as botocore parsed it. Credentials and region come from the
environment the test sets.
"""

import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def call(fn, **kwargs):
    """A call's response (minus ResponseMetadata) or the ClientError botocore raised."""
    try:
        response = fn(**kwargs)
    except ClientError as e:
        return {
            "error": {
                "Code": e.response["Error"]["Code"],
                "Message": e.response["Error"]["Message"],
                "HTTPStatusCode": e.response["ResponseMetadata"]["HTTPStatusCode"],
                "Class": type(e).__name__,
            }
        }
    response.pop("ResponseMetadata", None)
    return {"response": response}


def destinations(c, s):
    """The API_KEY connection and two API destinations on the sink."""
    out = {"connection": call(c.create_connection, **s["connection"])}
    arn = out["connection"]["response"]["ConnectionArn"]
    for key in ("hook", "raw"):
        out[key] = call(c.create_api_destination, ConnectionArn=arn, **s["destinations"][key])
    return out


def rule(c, s):
    """The bus, the rule and its targets, then what the control plane says about them."""
    bus, name = s["bus"], s["rule"]["Name"]
    return {
        "create_event_bus": call(c.create_event_bus, Name=bus),
        "put_rule": call(c.put_rule, EventBusName=bus, **s["rule"]),
        "put_targets": call(c.put_targets, Rule=name, EventBusName=bus, Targets=s["targets"]),
        "list_targets_by_rule": call(c.list_targets_by_rule, Rule=name, EventBusName=bus),
        "describe_rule": call(c.describe_rule, Name=name, EventBusName=bus),
        "list_rules": call(c.list_rules, EventBusName=bus),
        "test_event_pattern": [
            call(c.test_event_pattern, EventPattern=s["rule"]["EventPattern"], Event=event)
            for event in s["testEvents"]
        ],
    }


def put(c, s):
    return call(c.put_events, Entries=s["entries"])


def errors(c, s):
    return {
        "invalid_pattern": call(c.put_rule, Name="e2e-bad", EventPattern=s["invalidPattern"]),
        "missing_bus": call(
            c.put_rule, Name="e2e-r", EventBusName="nope", EventPattern=s["pattern"]
        ),
        "oversized": call(c.put_events, Entries=[s["oversized"]]),
        "eleven": call(c.put_events, Entries=s["eleven"]),
        "malformed": call(c.put_events, Entries=[s["malformed"]]),
        "no_source": call(c.put_events, Entries=[s["noSource"]]),
    }


PHASES = {"destinations": destinations, "rule": rule, "put": put, "errors": errors}


def main():
    phase, endpoint = sys.argv[1], sys.argv[2]
    scenario = json.load(sys.stdin)
    client = boto3.client(
        "events",
        endpoint_url=endpoint,
        config=Config(connect_timeout=10, read_timeout=30),
    )
    result = PHASES[phase](client, scenario)
    json.dump(
        {"boto3": boto3.__version__, "result": result}, sys.stdout, default=str, ensure_ascii=False
    )


if __name__ == "__main__":
    main()

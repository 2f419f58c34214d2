"""The boto3 side of test/e2e/lambda-boto3.e2e.test.ts (run with /usr/bin/python3: Debian's
boto3 1.26).

Usage: lambda_boto3.py PHASE ENDPOINT_URL < input.json

Prints {"boto3": version, "result": {...}}: each call's response without ResponseMetadata
(datetimes as ISO text), or for a service error {"error": {"Code", "Message",
"HTTPStatusCode", "Class"}} as botocore parsed it.
"""

import base64
import json
import sys

import boto3

from boto3_flow import call


def functions(c, s):
    with open(s["zip"], "rb") as f:
        zip_bytes = f.read()
    create = dict(
        Runtime=s["runtime"],
        Role=s["role"],
        Handler="app.handler",
        Code={"ZipFile": zip_bytes},
    )
    out = {
        "create": call(c.create_function, FunctionName="py-one", Timeout=7, **create),
        "second": call(c.create_function, FunctionName="py-two", **create),
        "again": call(c.create_function, FunctionName="py-one", **create),
        "badRuntime": call(c.create_function, FunctionName="py-bad", **{**create, "Runtime": "nodejs12.x"}),
        "get": call(c.get_function, FunctionName="py-one"),
        "missing": call(c.get_function_configuration, FunctionName="py-none"),
        "update": call(c.update_function_configuration, FunctionName="py-one", MemorySize=512),
        "permission": call(
            c.add_permission,
            FunctionName="py-one",
            StatementId="sched",
            Action="lambda:InvokeFunction",
            Principal="scheduler.amazonaws.com",
            SourceAccount=s["account"],
        ),
        "policy": call(c.get_policy, FunctionName="py-one"),
        "concurrency": call(c.put_function_concurrency, FunctionName="py-one", ReservedConcurrentExecutions=3),
        "tag": call(c.tag_resource, Resource=s["arn"], Tags={"k": "v"}),
        "tags": call(c.list_tags, Resource=s["arn"]),
        "invokeConfig": call(
            c.put_function_event_invoke_config, FunctionName="py-one", MaximumRetryAttempts=1
        ),
    }
    invoked = c.invoke(FunctionName="py-one", Payload=json.dumps({"n": 5}).encode(), LogType="Tail")
    out["invoke"] = {
        "response": {
            "StatusCode": invoked["StatusCode"],
            "ExecutedVersion": invoked.get("ExecutedVersion"),
            "Payload": json.loads(invoked["Payload"].read()),
            "Log": base64.b64decode(invoked["LogResult"]).decode(),
        }
    }
    names = []
    for page in c.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1}):
        names += [f["FunctionName"] for f in page["Functions"]]
    out["listed"] = {"response": names}
    out["delete"] = call(c.delete_function, FunctionName="py-two")
    out["afterDelete"] = call(c.get_function, FunctionName="py-two")
    return out


def main():
    phase, url = sys.argv[1], sys.argv[2]
    s = json.load(sys.stdin)
    c = boto3.client("lambda", endpoint_url=url)
    result = {"functions": functions}[phase](c, s)
    print(json.dumps({"boto3": boto3.__version__, "result": result}, default=str))


if __name__ == "__main__":
    main()

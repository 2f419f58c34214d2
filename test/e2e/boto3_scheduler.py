"""The boto3 side of test/e2e/scheduler-boto3.e2e.test.ts (run with /usr/bin/python3: Debian's
boto3 1.26, whose botocore knows EventBridge Scheduler).

Usage: boto3_scheduler.py PHASE ENDPOINT_URL < input.json

Prints {"boto3": version, "result": {...}}: each call's response without ResponseMetadata
(datetimes as ISO text), or for a service error {"error": {"Code", "Message",
"HTTPStatusCode", "Class"}} as botocore parsed it.
"""

import datetime
import json
import sys

import boto3

from boto3_flow import call  # the same response/error record as the EventBridge flow


def flow(c, s):
    target = {"Arn": s["queueArn"], "RoleArn": s["role"], "Input": "hello"}
    start = datetime.datetime(2031, 1, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
    end = datetime.datetime(2031, 6, 30, 0, 0, 0, tzinfo=datetime.timezone.utc)
    out = {
        "group": call(c.create_schedule_group, Name="ops", Tags=[{"Key": "team", "Value": "a"}]),
        "groupAgain": call(c.create_schedule_group, Name="ops"),
        "create": call(
            c.create_schedule,
            Name="weekly",
            GroupName="ops",
            ScheduleExpression="cron(0 9 ? * MON *)",
            ScheduleExpressionTimezone="America/New_York",
            StartDate=start,
            EndDate=end,
            FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 30},
            Target={**target, "RetryPolicy": {"MaximumRetryAttempts": 3}},
        ),
        "second": call(
            c.create_schedule,
            Name="daily",
            GroupName="ops",
            ScheduleExpression="rate(1 day)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target=target,
        ),
        "again": call(
            c.create_schedule,
            Name="weekly",
            GroupName="ops",
            ScheduleExpression="rate(1 day)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target=target,
        ),
        "badZone": call(
            c.create_schedule,
            Name="zone",
            ScheduleExpression="rate(1 day)",
            ScheduleExpressionTimezone="Mars/Olympus",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target=target,
        ),
        "flexibleWithoutWindow": call(
            c.create_schedule,
            Name="flex",
            ScheduleExpression="rate(1 day)",
            FlexibleTimeWindow={"Mode": "FLEXIBLE"},
            Target=target,
        ),
        "missing": call(c.get_schedule, Name="nope", GroupName="ops"),
        "page1": call(c.list_schedules, GroupName="ops", MaxResults=1),
    }
    got = call(c.get_schedule, Name="weekly", GroupName="ops")
    if "response" in got:
        r = got["response"]
        for k in ("StartDate", "EndDate", "CreationDate", "LastModificationDate"):
            if k in r:
                r[k] = r[k].isoformat()
    out["get"] = got
    token = out["page1"].get("response", {}).get("NextToken")
    out["page2"] = call(c.list_schedules, GroupName="ops", MaxResults=1, NextToken=token or "x")
    for page in ("page1", "page2"):
        for sched in out[page].get("response", {}).get("Schedules", []):
            for k in ("CreationDate", "LastModificationDate"):
                sched.pop(k, None)
    group_arn = out["group"].get("response", {}).get("ScheduleGroupArn", "")
    out["tag"] = call(c.tag_resource, ResourceArn=group_arn, Tags=[{"Key": "env", "Value": "dev"}])
    out["untag"] = call(c.untag_resource, ResourceArn=group_arn, TagKeys=["team"])
    out["tags"] = call(c.list_tags_for_resource, ResourceArn=group_arn)
    out["deleteGroup"] = call(c.delete_schedule_group, Name="ops")
    out["afterDelete"] = call(c.list_schedules, GroupName="ops")
    return out


def main():
    phase, url = sys.argv[1], sys.argv[2]
    s = json.load(sys.stdin)
    c = boto3.client("scheduler", endpoint_url=url)
    result = {"flow": flow}[phase](c, s)
    print(json.dumps({"boto3": boto3.__version__, "result": result}))


if __name__ == "__main__":
    main()

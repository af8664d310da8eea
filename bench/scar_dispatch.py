#!/usr/bin/env python3
"""SCAR 4.3.1's batch launcher, replicated for the dispatch benchmark.

`scar run` over an input bucket (scar/providers/aws/controller.py,
`_process_input_bucket_calls`) pops the first key and launches it
"request-response" (which goes out as Event: the "False" string bug), builds
one S3 event per remaining key from ONE shared template dict
(scar/providers/aws/s3.py `get_s3_event`, mutated in place: every event in
the list is the same object, carrying the last key), and hands them to
`Lambda.process_asynchronous_lambda_invocations`
(scar/providers/aws/lambdafunction.py): chunks of MAX_CONCURRENT_INVOCATIONS
= 500, each chunk a `ThreadPool(processes=len(chunk))` mapping
`_launch_async_event`, which stores the event in `self.function['payload']`
(shared again) and calls boto3's `invoke` through one lazily created client
(`lazy_property`, no lock: the first threads may race to create several).
botocore's default pool holds 10 connections, so 500 threads mostly open a
new TCP connection per invoke.

Usage: scar_dispatch.py --endpoint http://127.0.0.1:PORT --count 10000
Prints one JSON line: {"sent", "elapsed_s", "rate", "errors"}.
Needs boto3; credentials are dummies (the stub does not check them).
"""

import argparse
import json
import logging
import os
import sys
import time
from multiprocessing.pool import ThreadPool

import boto3
import botocore.config

logger = logging.getLogger("scar")

MAX_CONCURRENT_INVOCATIONS = 500
ASYNCHRONOUS_CALL = {"invocation_type": "Event", "log_type": "None", "asynchronous": "True"}
REQUEST_RESPONSE_CALL = {"invocation_type": "RequestResponse", "log_type": "Tail", "asynchronous": "False"}
ERRORS = []


def lazy_property(func):
    """scar/utils.py: computed on first access, no lock."""
    attr_name = "_lazy_" + func.__name__

    @property
    def _lazy_property(self):
        if not hasattr(self, attr_name):
            setattr(self, attr_name, func(self))
        return getattr(self, attr_name)

    return _lazy_property


class LambdaClient:
    """scar/providers/aws/clients/boto.py + lambdafunction.py."""

    def __init__(self, endpoint, region):
        self.endpoint = endpoint
        self.region = region

    @lazy_property
    def client(self):
        session = boto3.Session()
        config = botocore.config.Config(read_timeout=360)
        return session.client("lambda", region_name=self.region, endpoint_url=self.endpoint, config=config)

    def invoke_function(self, **kwargs):
        return self.client.invoke(**kwargs)


class Lambda:
    """The launcher half of scar/providers/aws/lambdafunction.py."""

    def __init__(self, resources_info, endpoint, region):
        self.resources_info = resources_info
        self.function = resources_info["lambda"]
        self._endpoint = endpoint
        self._region = region

    @lazy_property
    def client(self):
        return LambdaClient(self._endpoint, self._region)

    def is_asynchronous(self):
        return self.function.get("asynchronous", False)

    def set_asynchronous_call_parameters(self):
        self.function.update(ASYNCHRONOUS_CALL)

    def _set_request_response_call_parameters(self):
        self.function.update(REQUEST_RESPONSE_CALL)

    def launch_request_response_event(self, s3_event):
        self._set_request_response_call_parameters()
        return self._launch_s3_event(s3_event)

    def _launch_async_event(self, s3_event):
        self.set_asynchronous_call_parameters()
        return self._launch_s3_event(s3_event)

    def _launch_s3_event(self, s3_event):
        self.function["payload"] = s3_event
        logger.info("Sending event for file '%s'", s3_event["Records"][0]["s3"]["object"]["key"])
        return self.launch_lambda_instance()

    def process_asynchronous_lambda_invocations(self, s3_event_list):
        if len(s3_event_list) > MAX_CONCURRENT_INVOCATIONS:
            for chunk in divide_list_in_chunks(s3_event_list, MAX_CONCURRENT_INVOCATIONS):
                self._launch_concurrent_lambda_invocations(chunk)
        else:
            self._launch_concurrent_lambda_invocations(s3_event_list)

    def _launch_concurrent_lambda_invocations(self, s3_event_list):
        pool = ThreadPool(processes=len(s3_event_list))
        pool.map(lambda s3_event: self._launch_async_event(s3_event), s3_event_list)
        pool.close()

    def launch_lambda_instance(self):
        if self.is_asynchronous():
            self.set_asynchronous_call_parameters()
        try:
            response = self._invoke_lambda_function()
        except Exception as e:  # SCAR logs and goes on (excp.exception decorator)
            ERRORS.append(str(e))
            response = None
        return {"Response": response, "FunctionName": self.function.get("name"),
                "IsAsynchronous": self.function.get("asynchronous")}

    def _get_invocation_payload(self):
        payload = self.function.get("payload", {})
        return json.dumps(payload)

    def _invoke_lambda_function(self):
        invoke_args = {"FunctionName": self.function.get("name"),
                       "InvocationType": self.function.get("invocation_type"),
                       "LogType": self.function.get("log_type"),
                       "Payload": self._get_invocation_payload()}
        return self.client.invoke_function(**invoke_args)


def divide_list_in_chunks(elements, chunk_size):
    """scar/utils.py DataTypesUtils.divide_list_in_chunks."""
    for i in range(0, len(elements), chunk_size):
        yield elements[i:i + chunk_size]


class S3:
    """The event half of scar/providers/aws/s3.py (4.3.1)."""

    def __init__(self, resources_info):
        self.resources_info = resources_info

    def get_s3_event(self, bucket_name, file_key):
        event = self.resources_info.get("s3").get("event")
        event["Records"][0]["s3"]["bucket"]["name"] = bucket_name
        event["Records"][0]["s3"]["bucket"]["arn"] = event["Records"][0]["s3"]["bucket"]["arn"].format(
            bucket_name=bucket_name)
        event["Records"][0]["s3"]["object"]["key"] = file_key
        return event

    def get_s3_event_list(self, bucket_name, file_keys):
        return [self.get_s3_event(bucket_name, file_key) for file_key in file_keys]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--function", default="bench")
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "AKIDBENCH")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench-secret")
    resources_info = {
        "lambda": {"name": args.function, "asynchronous": False},
        "s3": {"event": {"Records": [{"eventSource": "aws:s3",
                                      "s3": {"bucket": {"name": "", "arn": "arn:aws:s3:::{bucket_name}"},
                                             "object": {"key": ""}}}]}},
    }
    keys = ["in/file-%05d.txt" % i for i in range(args.count)]
    aws_lambda = Lambda(resources_info, args.endpoint, "us-east-1")
    aws_s3 = S3(resources_info)
    started = time.perf_counter()
    # controller._process_input_bucket_calls
    s3_file_list = list(keys)
    if s3_file_list:
        s3_event = aws_s3.get_s3_event("input", s3_file_list.pop(0))
        aws_lambda.launch_request_response_event(s3_event)
    if s3_file_list:
        s3_event_list = aws_s3.get_s3_event_list("input", s3_file_list)
        aws_lambda.process_asynchronous_lambda_invocations(s3_event_list)
    elapsed = time.perf_counter() - started
    print(json.dumps({"sent": args.count, "elapsed_s": elapsed, "rate": args.count / elapsed,
                      "errors": len(ERRORS), "first_error": ERRORS[0] if ERRORS else None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

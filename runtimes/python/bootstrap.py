# Junction's Python runtime: the Lambda Runtime API loop for `python3.x` handlers, stdlib only.
import http.client
import importlib
import importlib.abc
import importlib.util
import json
import logging
import os
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
TASK_ROOT = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
HANDLER = os.environ.get("_HANDLER", "")
sys.path.insert(0, TASK_ROOT)
conn = http.client.HTTPConnection(API)


class _EndpointFromEnv(importlib.abc.MetaPathFinder):
    """botocore before 1.31 ignores AWS_ENDPOINT_URL: once `botocore.session` loads, its
    create_client defaults endpoint_url to the variable, as newer SDKs do. Patched lazily so
    functions that never import boto3 do not pay for it."""

    def find_spec(self, name, path, target=None):
        if name != "botocore.session":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original = loader.exec_module

        def exec_module(module):
            original(module)
            create = module.Session.create_client

            def create_client(self, *args, **kwargs):
                if kwargs.get("endpoint_url") is None and len(args) < 5:
                    url = os.environ.get("AWS_ENDPOINT_URL")
                    if url:
                        kwargs["endpoint_url"] = url
                return create(self, *args, **kwargs)

            module.Session.create_client = create_client

        loader.exec_module = exec_module
        return spec



sys.meta_path.insert(0, _EndpointFromEnv())


def call(method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    res = conn.getresponse()
    return res, res.read()


def post_error(path, payload):
    body = json.dumps(payload).encode()
    call("POST", path, body, {"Content-Type": "application/json",
                              "Lambda-Runtime-Function-Error-Type": payload["errorType"]})


def init_error(error_type, message, stack=None):
    payload = {"errorMessage": message, "errorType": error_type, "requestId": "",
               "stackTrace": stack or []}
    print("[ERROR] %s: %s" % (error_type, message), flush=True)
    post_error("/2018-06-01/runtime/init/error", payload)
    sys.exit(1)


def load_handler():
    module_path, _, function_name = HANDLER.rpartition(".")
    if not module_path:
        init_error("Runtime.MalformedHandlerName", "Bad handler '%s'" % HANDLER)
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        init_error("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_path, e))
    except SyntaxError as e:
        init_error("Runtime.UserCodeSyntaxError",
                   "Syntax error in module '%s': %s" % (module_path, e))
    except Exception as e:  # noqa: BLE001
        init_error("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_path, e),
                   traceback.format_list(traceback.extract_tb(e.__traceback__)))
    handler = getattr(module, function_name, None)
    if handler is None:
        init_error("Runtime.HandlerNotFound",
                   "Handler '%s' missing on module '%s'" % (function_name, module_path))
    return handler


class Context:
    def __init__(self, headers):
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self._deadline = int(headers.get("Lambda-Runtime-Deadline-Ms", "0"))
        client_context = headers.get("Lambda-Runtime-Client-Context")
        self.client_context = json.loads(client_context) if client_context else None
        identity = headers.get("Lambda-Runtime-Cognito-Identity")
        self.identity = json.loads(identity) if identity else None

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline - int(time.time() * 1000))


class _Request(logging.Filter):
    """Lambda's Python log format names the request in each record of the root logger."""

    aws_request_id = ""

    def filter(self, record):
        record.aws_request_id = self.aws_request_id
        return True


_request = _Request()


def _configure_logging():
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(_request)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.WARNING)


def main():
    _configure_logging()
    handler = load_handler()
    while True:
        res, body = call("GET", "/2018-06-01/runtime/invocation/next")
        context = Context(res.headers)
        request_id = context.aws_request_id
        trace_id = res.headers.get("Lambda-Runtime-Trace-Id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        base = "/2018-06-01/runtime/invocation/%s" % request_id
        _request.aws_request_id = request_id
        try:
            result = handler(json.loads(body), context)
        except Exception as e:  # noqa: BLE001
            payload = {"errorMessage": str(e), "errorType": type(e).__name__,
                       "requestId": request_id,
                       "stackTrace": traceback.format_list(traceback.extract_tb(e.__traceback__)[1:])}
            print("[ERROR] %s: %s" % (payload["errorType"], payload["errorMessage"]), flush=True)
            post_error(base + "/error", payload)
            continue
        try:
            out = json.dumps(result).encode()
        except (TypeError, ValueError) as e:
            payload = {"errorMessage": "Unable to marshal response: %s" % e,
                       "errorType": "Runtime.MarshalError", "requestId": request_id,
                       "stackTrace": []}
            post_error(base + "/error", payload)
            continue
        call("POST", base + "/response", out)


main()

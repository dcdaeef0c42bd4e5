"""The Lambda context every benchmarked handler is given: the fields gluetrigger and Powertools read.

Plain Python with no imports, so a cold-start sample can load it before its clock starts.
"""

__all__ = ["Context"]


class Context:
    """A fixed context with a minute left, as for an invocation that has just begun."""

    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000

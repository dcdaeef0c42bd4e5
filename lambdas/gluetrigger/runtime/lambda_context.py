"""The Lambda context the handler needs, and a stand-in for invoking it outside Lambda.

The handler reads four fields for its logs (as Powertools Logger does) and the remaining time,
which bounds its retries and the idempotency record's in-progress expiry. Tests and local mode
invoke the real handler with :class:`LocalLambdaContext`, whose clock runs from its creation
like a real invocation's, so time-dependent behaviour is the same as on Lambda.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["LambdaContextLike", "LocalLambdaContext"]

LOCAL_ACCOUNT = "123456789012"  # moto's default account
LOCAL_REGION = "us-east-1"


class LambdaContextLike(Protocol):
    """What the handler reads from Lambda's context object."""

    @property
    def function_name(self) -> str: ...

    @property
    def memory_limit_in_mb(self) -> int: ...

    @property
    def invoked_function_arn(self) -> str: ...

    @property
    def aws_request_id(self) -> str: ...

    def get_remaining_time_in_millis(self) -> int: ...


@dataclass
class LocalLambdaContext:
    """A context for one invocation outside Lambda; ``timeout_seconds`` is the function's timeout."""

    function_name: str = "gluetrigger"
    memory_limit_in_mb: int = 256
    timeout_seconds: float = 60.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""  # default: derived from function_name
    function_version: str = "$LATEST"
    log_group_name: str = ""  # default: derived from function_name
    log_stream_name: str = "local"
    _deadline: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        if not self.invoked_function_arn:
            self.invoked_function_arn = f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:{self.function_name}"
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

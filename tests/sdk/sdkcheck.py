"""Shared helpers for the checks that run Codat's official Python SDKs against Ledgerline.

Each check is one SDK call (or a few) with expectations; the report prints one line per check
and the scripts exit non-zero when any check failed. A response the SDK cannot parse shows up
as a pydantic ValidationError naming the field at fault.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import time
import traceback
from typing import Any, Callable, Optional

import pydantic


class CheckFailed(Exception):
    """An expectation about a response did not hold."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def basic_auth_header(api_key: str) -> str:
    """What Codat's docs tell clients to send; the SDK copies `auth_header` verbatim."""
    return "Basic " + base64.b64encode(api_key.encode()).decode()


def arguments(description: str, extra: Callable[[argparse.ArgumentParser], None]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--url",
        default=os.environ.get("LEDGERLINE_URL"),
        help="the server's base URL (env LEDGERLINE_URL)",
    )
    parser.add_argument(
        "--key",
        default=os.environ.get("LEDGERLINE_API_KEY"),
        help="a tenant's API key, unencoded (env LEDGERLINE_API_KEY)",
    )
    extra(parser)
    args = parser.parse_args()
    if not args.url or not args.key:
        parser.error("--url and --key (or LEDGERLINE_URL and LEDGERLINE_API_KEY) are required")
    return args


def no_retries(utils_module: Any) -> Any:
    """The SDK retries 408/429/5XX for up to an hour by default; a test wants the first answer."""
    return utils_module.RetryConfig("none", utils_module.BackoffStrategy(1, 1, 1.0, 1), False)


class Report:
    """Runs named checks, prints one line each, remembers failures."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.passed = 0
        self.failed: list[str] = []
        self.skipped: list[str] = []
        print(f"== {title}", flush=True)

    def check(self, name: str, fn: Callable[[], Any]) -> Any:
        """Runs `fn`; its return value (a short string, or a tuple of (detail, value)) is shown."""
        started = time.monotonic()
        try:
            result = fn()
        except CheckFailed as e:
            self._fail(name, started, f"{e}")
            return None
        except pydantic.ValidationError as e:
            self._fail(name, started, f"the SDK could not parse the response (pydantic ValidationError):\n{e}")
            return None
        except Exception as e:  # noqa: BLE001 - every other failure is reported the same way
            self._fail(name, started, f"{type(e).__module__}.{type(e).__name__}: {e}\n{traceback.format_exc()}")
            return None
        detail, value = result if isinstance(result, tuple) else (result, result)
        self.passed += 1
        suffix = f" — {detail}" if isinstance(detail, str) and detail else ""
        print(f"  ok    {name}{suffix} ({self._ms(started)})", flush=True)
        return value

    def skip(self, name: str, why: str) -> None:
        self.skipped.append(name)
        print(f"  skip  {name} — {why}", flush=True)

    def _fail(self, name: str, started: float, why: str) -> None:
        self.failed.append(name)
        indented = "\n".join("        " + line for line in why.rstrip().splitlines())
        print(f"  FAIL  {name} ({self._ms(started)})\n{indented}", flush=True)

    @staticmethod
    def _ms(started: float) -> str:
        return f"{(time.monotonic() - started) * 1000:.0f} ms"

    def finish(self) -> None:
        print(
            f"== {self.title}: {self.passed} passed, {len(self.failed)} failed, {len(self.skipped)} skipped",
            flush=True,
        )
        if self.failed:
            print("failed: " + ", ".join(self.failed), flush=True)
            sys.exit(1)


def expect_error_message(
    call: Callable[[], Any],
    status: int,
    error_message_type: type,
    contains: Optional[str] = None,
) -> str:
    """`call` must raise the SDK's typed `errors.ErrorMessage` for our JSON error body.

    A generic `SDKError` (the SDK did not match status and content type) or a ValidationError
    (the error body did not parse) fails the check.
    """
    try:
        value = call()
    except error_message_type as e:
        data = e.data
        expect(data.status_code == status, f"statusCode {data.status_code}, expected {status}: {e}")
        expect(bool(data.error), f"an empty error message: {e}")
        expect(bool(data.correlation_id), f"no correlationId: {e}")
        expect(data.service == "PublicApi", f"service {data.service!r}: {e}")
        expect(
            data.can_be_retried in ("True", "False", "Unknown"),
            f"canBeRetried {data.can_be_retried!r}: {e}",
        )
        if contains is not None:
            expect(contains in data.error, f"error {data.error!r} does not mention {contains!r}")
        return f"ErrorMessage {data.status_code}: {data.error}"
    raise CheckFailed(f"expected errors.ErrorMessage {status}, got a success: {value!r}")

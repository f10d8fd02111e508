"""Dramatiq actor of the ``assistant`` queue: local-model inference on the worker tier."""

from __future__ import annotations

import dramatiq


# No retries: a local inference that failed once fails again, and the request waiting on it has a deadline.
@dramatiq.actor(queue_name="assistant", max_retries=0, time_limit=10 * 60 * 1000)
def generate_reply(request_id: str) -> None:
    from assistant.services import run_local_request

    run_local_request(request_id)

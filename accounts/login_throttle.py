"""Failed-login limits shared by the API login and the admin login (docs/AUTH.md "Login limits").

Policy: failures are counted per (email, client IP) and per client IP, in windows that start at the first
failure. ``LOGIN_FAILURE_LIMIT`` (5) failures for one email from one address block that email from that
address; ``LOGIN_IP_FAILURE_LIMIT`` (20) failures from one address block the address for every email. There
is deliberately no per-email limit across addresses: it would let anyone lock anyone out from everywhere.

Every attempt is counted *before* the password is checked, with the cache's atomic ``add``/``incr``, and a
success gives its count back. So concurrent attempts cannot all pass one shared check: at most ``limit``
attempts in a window ever reach the password hash, however many arrive at once (locmem and Redis caches
both make ``add``/``incr`` atomic; the cache must be shared by all web processes: Redis in production).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class _Counter:
    key: str
    limit: int


class LoginBlocked(Exception):
    """Too many failures: ``retry_after`` is the whole seconds until the oldest blocking window ends."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"login blocked for {retry_after}s")


def _counters(email: str, ip: str) -> list[_Counter]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return [_Counter(f"login-fail:pair:{digest}:{ip}", settings.LOGIN_FAILURE_LIMIT),
            _Counter(f"login-fail:ip:{ip}", settings.LOGIN_IP_FAILURE_LIMIT)]


def _hit(key: str, window: int) -> int:
    """Count one attempt atomically and return the count including it; the first one opens the window."""
    for _ in range(3):
        if cache.add(key, 1, timeout=window):
            cache.set(f"{key}:until", time.time() + window, timeout=window)
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # the window ended between add and incr: open a new one
            continue
    return cache.incr(key)


def _retry_after(key: str, window: int) -> int:
    until = cache.get(f"{key}:until")
    remaining = (until - time.time()) if isinstance(until, (int, float)) else window
    return max(1, math.ceil(remaining))


class LoginAttempt:
    """One login attempt, counted on creation; call :meth:`succeeded` when the password was right.

    Raises :class:`LoginBlocked` on creation when this attempt is over a limit (the password must then not
    be checked at all, so the answer reveals nothing about it).
    """

    def __init__(self, *, email: str, ip: str) -> None:
        window = settings.LOGIN_FAILURE_WINDOW
        self._counters = _counters(email, ip)
        over = [counter for counter in self._counters if _hit(counter.key, window) > counter.limit]
        if over:
            raise LoginBlocked(max(_retry_after(counter.key, window) for counter in over))

    def succeeded(self) -> None:
        """A right password: forget this email's failures from this address, give back the address's count."""
        pair, per_ip = self._counters
        cache.delete_many([pair.key, f"{pair.key}:until"])
        try:
            cache.decr(per_ip.key)
        except ValueError:  # its window ended meanwhile
            pass

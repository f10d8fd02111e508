"""ASGI entry point (uvicorn ecg.asgi:application).

In the embedded default (no ``REDIS_URL``) messages go to Dramatiq's StubBroker, which has no consumer of
its own, so this entry point starts one in-process worker thread that drains it. It lives here and not in
``AppConfig.ready()`` so that ``manage.py`` commands, tests and real worker processes never start one.
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecg.settings")
# Web processes share a bounded PostgreSQL connection pool (see settings); workers and commands do not.
os.environ.setdefault("ECG_DB_POOL", "true")
django.setup(set_prefix=False)

from ecg.handler import ASGIHandler  # noqa: E402  (Django's handler, cheaper per request: see its docstring)

application = ASGIHandler()

from ecg.worker import start_inprocess_worker  # noqa: E402  (needs the app registry loaded)

start_inprocess_worker()

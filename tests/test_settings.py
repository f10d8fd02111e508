"""Settings: embedded defaults, .env.example is loadable as is, production refuses unsafe settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'ecg.settings'); django.setup(); "
         "from django.conf import settings as s; "
         "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.DRAMATIQ_BROKER['BROKER'], s.ECG_INPROCESS_WORKER, "
         "type(s.STORAGES['default']['BACKEND']).__name__, s.STORAGES['default']['BACKEND'])")


def run_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ECG_", "DATABASE_URL", "REDIS_URL", "SECRET"))}
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=120)


def test_embedded_defaults_with_no_environment():
    out = run_settings({})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[:4] == ["True", "django.db.backends.sqlite3", "dramatiq.brokers.stub.StubBroker", "True"]
    assert "FileSystemStorage" in out.stdout


@pytest.mark.parametrize(("env", "broker", "inprocess"), [
    ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, "dramatiq.brokers.redis.RedisBroker", "False"),
    ({"REDIS_URL": "redis://127.0.0.1:6379/0", "ECG_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672/ecg"},
     "dramatiq.brokers.rabbitmq.RabbitmqBroker", "False"),
    ({"ECG_BROKER_URL": "amqps://u:p@mq.example.com:5671/ecg"}, "dramatiq.brokers.rabbitmq.RabbitmqBroker", "False"),
    ({"ECG_BROKER_URL": "redis://127.0.0.1:6379/3"}, "dramatiq.brokers.redis.RedisBroker", "False"),
])
def test_broker_is_chosen_by_the_url_scheme(env, broker, inprocess):
    """ECG_BROKER_URL (default REDIS_URL) picks RabbitMQ or Redis; any real broker turns the in-process worker off."""
    out = run_settings(env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[2:4] == [broker, inprocess]


def test_env_example_loads_unchanged():
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if match := re.match(r"^([A-Z_0-9]+)=(.*)$", line):
            values[match.group(1)] = match.group(2)
    assert len(values) > 40
    out = run_settings(values)
    assert out.returncode == 0, out.stderr


def test_every_variable_read_by_settings_is_documented():
    source = (ROOT / "ecg" / "settings.py").read_text()
    read = set(re.findall(r'env\.\w+\("([A-Z_0-9]+)"', source))
    documented = set(re.findall(r"^#?\s?([A-Z_0-9]+)=", (ROOT / ".env.example").read_text(), flags=re.M))
    assert read - documented == set()


@pytest.mark.parametrize(("env", "problem"), [
    ({"ECG_PRODUCTION": "true"}, "SECRET_KEY must be set"),
    ({"ECG_PRODUCTION": "true", "SECRET_KEY": "django-insecure-ecg-development-key-do-not-use-in-production"},
     "SECRET_KEY must be a long random value"),
    ({"ECG_PRODUCTION": "true", "SECRET_KEY": "x" * 60, "DEBUG": "true"}, "DEBUG must be off"),
    ({"ECG_PRODUCTION": "true", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
    ({"DEBUG": "false"}, "SECRET_KEY must be set"),
])
def test_production_refuses_unsafe_settings(env, problem):
    out = run_settings(env)
    assert out.returncode != 0
    assert problem in out.stderr


def test_production_with_safe_settings_starts():
    out = run_settings({"ECG_PRODUCTION": "true", "SECRET_KEY": "k" * 64, "ALLOWED_HOSTS": "api.example.com"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "False"


def test_redis_url_switches_broker_and_cache():
    out = run_settings({"REDIS_URL": "redis://127.0.0.1:6379/3"})
    assert out.returncode == 0, out.stderr
    assert "dramatiq.brokers.redis.RedisBroker" in out.stdout and out.stdout.split()[3] == "False"


def test_s3_bucket_switches_storage():
    out = run_settings({"ECG_S3_BUCKET": "media-bucket", "ECG_S3_ENDPOINT_URL": "http://127.0.0.1:9000"})
    assert out.returncode == 0, out.stderr
    assert "storages.backends.s3.S3Storage" in out.stdout

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


STRONG_KEY = "tR7vQ2mX9pL4sK8wZ1nB6cF3hJ5dG0yU" * 2


def run_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ECG_", "DATABASE_URL", "REDIS_URL", "SECRET"))}
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=120)


def test_embedded_defaults_with_no_environment():
    out = run_settings({})
    assert out.returncode == 0, out.stderr
    # DEBUG is off unless asked for (issue #11 item 12: it used to be on whenever ECG_PRODUCTION was unset).
    assert out.stdout.split()[:4] == ["False", "django.db.backends.sqlite3", "dramatiq.brokers.stub.StubBroker", "True"]
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
    ({"ECG_PRODUCTION": "true", "SECRET_KEY": STRONG_KEY, "DEBUG": "true"}, "DEBUG must be off"),
    ({"ECG_PRODUCTION": "true", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
    ({"ECG_PRODUCTION": "true", "SECRET_KEY": "k" * 64}, "SECRET_KEY must be a long random value"),
    ({"ECG_PRODUCTION": "true", "SECRET_KEY": STRONG_KEY, "JWT_SIGNING_KEY": "secret"}, "JWT_SIGNING_KEY"),
    ({"ECG_PRODUCTION": "true", "SECRET_KEY": STRONG_KEY, "JWT_SIGNING_KEY": "django-insecure-" + "a1b2c3d4" * 6},
     "JWT_SIGNING_KEY"),
])
def test_production_refuses_unsafe_settings(env, problem):
    out = run_settings(env)
    assert out.returncode != 0
    assert problem in out.stderr


def test_production_with_safe_settings_starts():
    out = run_settings({"ECG_PRODUCTION": "true", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "api.example.com"})
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


def test_production_configuration_passes_check_deploy():
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ECG_", "DATABASE_URL", "REDIS_URL", "SECRET"))}
    env = {**clean, "ECG_PRODUCTION": "true", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "api.example.com",
           "DEBUG": "false"}
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


KEY_PROBE = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'ecg.settings'); django.setup(); "
             "from django.conf import settings as s; import sys; sys.stdout.write(s.SECRET_KEY)")


def test_without_secret_key_every_process_shares_one_generated_key(tmp_path):
    """Eight processes starting at once (uvicorn workers, rundramatiq, manage.py) all get the same random key."""
    key_file = tmp_path / "var" / "secret_key"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ECG_", "DATABASE_URL", "REDIS_URL", "SECRET"))}
    env = {**clean, "ECG_SECRET_KEY_FILE": str(key_file)}
    processes = [subprocess.Popen([sys.executable, "-c", KEY_PROBE], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(8)]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert all(process.returncode == 0 for process in processes), [err for _, err in outputs]
    keys = {out for out, _ in outputs}
    assert len(keys) == 1
    (key,) = keys
    assert key == key_file.read_text().strip()
    assert len(key) >= 50 and not key.startswith("django-insecure")
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    assert list(key_file.parent.iterdir()) == [key_file]  # no temporary files left behind
    # A later start reads the same key again.
    again = subprocess.run([sys.executable, "-c", KEY_PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=120)
    assert again.stdout == key
    assert ".secret_key" in (ROOT / ".gitignore").read_text()

"""The Redis-backed queue for force deployments: an upload queued by one process is run by
an RQ worker process, against this machine's Redis (skipped where there is none, never in CI).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import first_lines

REDIS_URL = os.environ.get("PLACEWISE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
EXE = Path(sys.executable).with_name("placewise")


def redis_or_skip():
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL} in CI")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    client.flushdb()  # database 15 is the tests' own
    return client


def placewise(env, *args, check=True):
    return subprocess.run(
        [EXE, *args], env=env, capture_output=True, text=True, timeout=180, check=check
    )


QUEUE_UPLOAD = """
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from placewise.accounts.models import User
from placewise.incidents.actions import do_queue_upload_import
user = User.objects.create_user("rq_analyst", role="analyst")
data = open({path!r}, "rb").read()
upload = SimpleUploadedFile("2021-03-leicestershire-street.csv", data)
with transaction.atomic():
    run = do_queue_upload_import(user, [upload])
print(run.pk)
"""

SHOW_RUN = """
import json
from placewise.incidents.models import ImportRun
print(json.dumps(ImportRun.objects.get(pk={pk}).summary()))
"""


def test_upload_runs_on_an_rq_worker(tmp_path):
    client = redis_or_skip()
    env = {
        **os.environ,
        "DEBUG": "true",
        "TASK_BACKEND": "rq",
        "REDIS_URL": REDIS_URL,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'rq.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path),
    }
    placewise(env, "migrate", "-v", "0")
    csv_path = tmp_path / "upload.csv"
    csv_path.write_bytes(first_lines("2021-03", 25))
    pk = int(
        placewise(env, "shell", "-c", QUEUE_UPLOAD.format(path=str(csv_path))).stdout.split()[-1]
    )
    assert client.llen("rq:queue:default") == 1
    before = json.loads(
        placewise(env, "shell", "-c", SHOW_RUN.format(pk=pk)).stdout.splitlines()[-1]
    )
    assert before["status"] == "queued"
    placewise(
        env,
        "rqworker",
        "--burst",
        "--job-class",
        "django_tasks_rq.Job",
        "--worker-class",
        "rq.worker.SimpleWorker",
        "default",
    )
    after = json.loads(
        placewise(env, "shell", "-c", SHOW_RUN.format(pk=pk)).stdout.splitlines()[-1]
    )
    assert after["status"] == "succeeded" and after["rows_imported"] == 25
    client.flushdb()

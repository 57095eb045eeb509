"""Shared pieces of the pytest suite of the Python binding (issue 16).

The module under test comes from one place: `runner_module` imports
os.environ.get("ARUNNER_PY_MODULE", "arunner"), so `ARUNNER_PY_MODULE=ansible_runner` runs the
same tests against Debian's ansible-runner 2.3.1 (the API arunner imitates). Tests that rely on
what only arunner promises skip themselves through `arunner_only`.
"""
import glob
import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SOURCE_DIR = Path(os.environ.get("ARUNNER_SOURCE_DIR", HERE.parent.parent)).resolve()
SHARED_FIXTURES = SOURCE_DIR / "tests" / "fixtures"
OWN_FIXTURES = HERE / "fixtures"
MODULE_NAME = os.environ.get("ARUNNER_PY_MODULE", "arunner")
UNDER_DEBIAN = MODULE_NAME != "arunner"


def import_module_under_test():
    return importlib.import_module(MODULE_NAME)


@pytest.fixture(scope="session")
def runner_module():
    """The module under test: arunner, or Debian's ansible_runner under ARUNNER_PY_MODULE."""
    return import_module_under_test()


@pytest.fixture
def arunner_only():
    """Skips a test that checks what only arunner promises (ansible-runner behaves otherwise)."""
    if UNDER_DEBIAN:
        pytest.skip("arunner-only behaviour; ARUNNER_PY_MODULE=%s" % MODULE_NAME)


def fixture_dir(name):
    """A fixture private data dir: tests/python/fixtures/NAME, else tests/fixtures/NAME."""
    own = OWN_FIXTURES / name
    return own if own.is_dir() else SHARED_FIXTURES / name


def make_pdd(tmp_path, name="hello", sub="pdd"):
    """A fresh copy of a fixture private data dir under tmp_path (every test its own)."""
    dest = tmp_path / sub
    shutil.copytree(fixture_dir(name), dest)
    return dest


@pytest.fixture
def pdd(tmp_path):
    return make_pdd(tmp_path, "hello")


def arunner_binary():
    """The arunner CLI (a thin caller of the C++ library the module wraps)."""
    path = os.environ.get("ARUNNER_BINARY") or str(SOURCE_DIR / "build" / "arunner")
    if not os.access(path, os.X_OK):
        pytest.skip("no arunner CLI at %s (set ARUNNER_BINARY)" % path)
    return path


def job_events(artifact_dir):
    """The job_events files of an artifact dir, in counter order."""
    files = glob.glob(os.path.join(str(artifact_dir), "job_events", "*.json"))
    events = []
    for f in files:
        with open(f) as fh:
            events.append(json.load(fh))
    return sorted(events, key=lambda e: e["counter"])


def signature(events):
    """What two runs of the same job must share: not uuids, timestamps or pids."""
    out = []
    for e in events:
        data = e.get("event_data", {})
        out.append((e["event"], e["counter"], data.get("host"), data.get("task"), data.get("play")))
    return out


def event_names(events):
    return [e["event"] for e in events]


def python_env(extra=None):
    """The environment for a child `python -c` that must import the same module."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env.update(extra or {})
    return env


def run_python(code, *, input=None, timeout=180, env=None):
    """Runs `sys.executable -c code`; returns the CompletedProcess (stdout/stderr bytes)."""
    return subprocess.run([sys.executable, "-c", code], input=input, capture_output=True,
                          timeout=timeout, env=python_env(env))


def no_process_left(needle):
    """True when no process has NEEDLE (e.g. the private data dir, which ansible-playbook's
    command line carries in its inventory path) in its command line (arguments joined by
    spaces)."""
    needle = str(needle).encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if needle in f.read().replace(b"\0", b" "):
                    return False
        except OSError:
            continue
    return True

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
import threading
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


EE_IMAGE = "localhost/arunner-ee"


def _podman_answers(socket_path):
    import socket

    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(socket_path)
            s.sendall(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n")
            return b" 200 " in s.recv(256)
    except OSError:
        return False


@pytest.fixture(scope="module")
def podman_service(tmp_path_factory):
    """A private `podman system service` for the tests of one file (as
    tests/support/podman_service.hpp does for the C++ tests): yields its socket path; SIGTERM
    and wait at the end."""
    import time

    if not os.path.exists("/etc/containers/containers.conf"):
        pytest.skip("no /etc/containers/containers.conf (scripts/setup-podman)")
    if shutil.which("podman") is None:
        pytest.skip("no podman")
    if subprocess.run(["podman", "image", "exists", EE_IMAGE]).returncode != 0:
        pytest.skip("no image %s (scripts/build-ee)" % EE_IMAGE)
    sock = str(tmp_path_factory.mktemp("podman") / "podman.sock")
    service = subprocess.Popen(["podman", "system", "service", "--time=0", "unix://" + sock],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not _podman_answers(sock):
            if service.poll() is not None or time.monotonic() > deadline:
                pytest.fail("podman system service did not come up: %r"
                            % service.stderr.read(4096))
            time.sleep(0.1)  # awaiting the socket's answer
        yield sock
    finally:
        service.terminate()
        service.wait(timeout=60)


@pytest.fixture
def container_host(podman_service, monkeypatch):
    """CONTAINER_HOST set to the private podman service for one test; yields a function that
    lists the names of the containers the service knows."""
    monkeypatch.setenv("CONTAINER_HOST", "unix://" + podman_service)

    def containers():
        out = subprocess.run(["podman", "--url", "unix://" + podman_service, "ps", "-a",
                              "--format", "{{.Names}}"], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr
        return out.stdout.split()

    return containers


def threaded_pipeline(mod, shared, work, proc, common, process_kwargs):
    """transmit -> worker -> process by MOD.run(), in three threads joined by two os.pipe()s;
    COMMON goes to all three, PROCESS_KWARGS to the processor. Returns {stage: its object}."""
    results = {}
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()

    def stage(name, **kwargs):
        files = [f for f in (kwargs.get("_input"), kwargs.get("_output")) if f is not None]
        try:
            results[name] = mod.run(**common, **kwargs)
        except BaseException as e:  # noqa: B902 -- reported by the test
            results[name] = e
        finally:
            for f in files:
                f.close()  # the next stage sees EOF

    threads = [
        threading.Thread(target=stage, args=("transmit",),
                         kwargs=dict(private_data_dir=str(shared), streamer="transmit",
                                     _output=os.fdopen(w1, "wb"))),
        threading.Thread(target=stage, args=("worker",),
                         kwargs=dict(private_data_dir=str(work), streamer="worker",
                                     _input=os.fdopen(r1, "rb"), _output=os.fdopen(w2, "wb"))),
        threading.Thread(target=stage, args=("process",),
                         kwargs=dict(private_data_dir=str(proc), streamer="process",
                                     _input=os.fdopen(r2, "rb"), **process_kwargs)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads)
    for name, r in results.items():
        assert not isinstance(r, BaseException), (name, r)
    return results

"""The Runner API of `run()` and `run_async()`: keyword checks, the Runner's properties and
file objects, the fact cache, threads (no GIL held while a job runs) and Ctrl-C."""
import importlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import make_pdd, no_process_left, python_env


@pytest.fixture(scope="module")
def hello_run(tmp_path_factory):
    """One successful run of tests/fixtures/hello that the read-only checks below share (each
    ansible-playbook run costs seconds on this machine)."""
    import conftest

    mod = conftest.import_module_under_test()
    pdd = make_pdd(tmp_path_factory.mktemp("hello"), "hello")
    runner = mod.run(private_data_dir=str(pdd), playbook="site.yml",
                     ident="hello", quiet=True)
    return pdd, runner


def test_unknown_keyword_is_a_type_error_that_names_it(runner_module, pdd):
    with pytest.raises(TypeError, match="no_such_keyword"):
        runner_module.run(private_data_dir=str(pdd), playbook="site.yml", no_such_keyword=1)
    assert not (pdd / "artifacts").exists() or not any((pdd / "artifacts").iterdir())


def test_missing_private_data_dir_is_a_configuration_error(runner_module, tmp_path, arunner_only):
    missing = tmp_path / "does-not-exist"
    with pytest.raises(runner_module.ConfigurationError, match="does-not-exist"):
        runner_module.run(private_data_dir=str(missing), playbook="site.yml")
    assert not missing.exists()


def test_wrong_type_is_a_configuration_error_naming_the_keyword(runner_module, pdd, arunner_only):
    with pytest.raises(runner_module.ConfigurationError, match="forks"):
        runner_module.run(private_data_dir=str(pdd), playbook="site.yml", forks="many")


def test_host_cwd_is_refused_by_name_for_run(runner_module, pdd, arunner_only):
    # run() takes host_cwd only for ansible-runner's containers; arunner refuses it rather
    # than ignore it (run_command takes it).
    with pytest.raises(runner_module.ConfigurationError, match="host_cwd"):
        runner_module.run(private_data_dir=str(pdd), playbook="site.yml", host_cwd="/srv")


def test_exports(runner_module, arunner_only):
    for name in ("run", "run_async", "Runner", "Transmitter", "Worker", "Processor",
                 "AnsibleRunnerException", "ConfigurationError", "CallbackError", "__version__"):
        assert hasattr(runner_module, name), name
    assert issubclass(runner_module.ConfigurationError, runner_module.AnsibleRunnerException)


def test_names_import_from_ansible_runners_submodules(runner_module):
    # Programs import the streamers and exceptions from where ansible-runner defines them.
    name = runner_module.__name__
    streaming = importlib.import_module(name + ".streaming")
    interface = importlib.import_module(name + ".interface")
    exceptions = importlib.import_module(name + ".exceptions")
    runner = importlib.import_module(name + ".runner")
    assert streaming.Processor is runner_module.streaming.Processor
    assert all(callable(getattr(streaming, n)) for n in ("Transmitter", "Worker", "Processor"))
    assert interface.run is runner_module.run and interface.run_async is runner_module.run_async
    assert runner.Runner is runner_module.Runner
    assert issubclass(exceptions.ConfigurationError, exceptions.AnsibleRunnerException)
    assert exceptions.ConfigurationError is runner_module.ConfigurationError


def test_status_rc_and_config(hello_run):
    pdd, r = hello_run
    assert (r.status, r.rc) == ("successful", 0)
    assert not r.canceled and not r.timed_out and not r.errored
    art = pdd / "artifacts" / "hello"
    assert os.path.samefile(r.config.artifact_dir, art)
    assert os.path.samefile(r.config.private_data_dir, pdd)
    assert str(r.config.ident) == "hello"
    assert "ansible-playbook" in " ".join(r.config.command)
    assert (art / "status").read_text() == "successful"
    assert (art / "rc").read_text() == "0"


def test_stats_and_host_events(hello_run):
    _, r = hello_run
    stats = r.stats
    assert stats["ok"] == {"localhost": 2}
    assert stats["failures"] == {} and stats["dark"] == {}
    assert set(stats) >= {"ok", "dark", "failures", "skipped", "ignored", "rescued", "processed",
                          "changed"}
    host = list(r.host_events("localhost"))
    oks = [e["event_data"]["task"] for e in host if e["event"] == "runner_on_ok"]
    assert oks == ["say hello", "a loop"]
    items = [e for e in host if e["event"] == "runner_item_on_ok"]
    assert len(items) == 2
    assert list(r.host_events("nohost")) == []


def test_events_are_the_job_events_files_in_order(hello_run):
    pdd, r = hello_run
    events = list(r.events)
    assert [e["counter"] for e in events] == sorted(e["counter"] for e in events)
    assert events[0]["event"] == "playbook_on_start"
    assert events[-1]["event"] == "playbook_on_stats"
    files = os.listdir(pdd / "artifacts" / "hello" / "job_events")
    assert len(files) == len(events)
    # a second iteration gives the same events again (not a one-shot generator)
    assert [e["uuid"] for e in r.events] == [e["uuid"] for e in events]


def test_stdout_and_stderr_are_fresh_text_file_objects(hello_run, runner_module):
    pdd, r = hello_run
    with r.stdout as first:
        text = first.read()
    assert "hello from arunner" in text and "PLAY RECAP" in text
    with r.stdout as second:  # a new object each time, from the start of the file
        assert second.read() == text
        with pytest.raises(OSError):
            second.write("x")
    assert text == (pdd / "artifacts" / "hello" / "stdout").read_text()
    with r.stderr as err:
        assert isinstance(err.read(), str)
    stdout = pdd / "artifacts" / "hello" / "stdout"
    stdout.rename(stdout.with_name("stdout.away"))
    try:
        with pytest.raises(runner_module.AnsibleRunnerException, match="stdout missing"):
            r.stdout
    finally:
        stdout.with_name("stdout.away").rename(stdout)


def test_fact_cache_set_then_read_by_the_next_run(runner_module, tmp_path):
    pdd = make_pdd(tmp_path, "factcache")
    first = runner_module.run(private_data_dir=str(pdd), playbook="site.yml",
                              ident="facts", quiet=True)
    assert first.status == "successful"
    assert "seeded says NOTHING" in first.stdout.read()
    first.set_fact_cache("localhost", {"seeded_message": "from python"})
    assert first.get_fact_cache("localhost") == {"seeded_message": "from python"}
    with open(pdd / "artifacts" / "facts" / "fact_cache" / "localhost") as f:
        assert json.load(f) == {"seeded_message": "from python"}
    second = runner_module.run(private_data_dir=str(pdd), playbook="site.yml",
                               ident="facts", quiet=True)
    assert second.status == "successful"
    assert "seeded says from python" in second.stdout.read()


def test_no_gil_held_while_the_job_runs(runner_module, pdd):
    # A thread counts; the count taken when the job starts running and when it ends (both in
    # callbacks, which hold the GIL) must differ by far more than a few GIL hand-overs allow.
    count = [0]
    stop = threading.Event()

    def counter():
        while not stop.is_set():
            count[0] += 1

    seen = {}

    def on_status(data, runner_config=None):
        seen[data["status"]] = count[0]

    t = threading.Thread(target=counter)
    t.start()
    try:
        r = runner_module.run(private_data_dir=str(pdd), playbook="site.yml",
                              quiet=True, status_handler=on_status)
    finally:
        stop.set()
        t.join()
    assert r.status == "successful"
    assert seen["successful"] - seen["running"] > 10000


def test_run_async_returns_a_thread_and_the_runner(runner_module, pdd):
    thread, r = runner_module.run_async(private_data_dir=str(pdd), playbook="site.yml",
                                        quiet=True)
    assert isinstance(thread, threading.Thread)
    thread.join(timeout=300)
    assert not thread.is_alive()
    assert (r.status, r.rc) == ("successful", 0)


CTRL_C_CHILD = r"""
import json, os, sys
mod = __import__(os.environ.get("ARUNNER_PY_MODULE", "arunner"))
r = mod.run(private_data_dir=sys.argv[1], playbook="site.yml",
            ident="ctrlc", quiet=True, extravars={"sleep_seconds": int(sys.argv[2])})
print(json.dumps({"status": r.status, "rc": r.rc, "canceled": r.canceled}), flush=True)
"""


def test_ctrl_c_cancels_the_job(tmp_path, arunner_only):
    # The child runs the job with no callbacks (a SIGINT inside a callback would be a
    # KeyboardInterrupt in that callback); the parent sends SIGINT once the job's `sleep` task
    # has started, which the child's job_events file tells.
    pdd = make_pdd(tmp_path, "sleeper")
    seconds = random.randint(100000, 999999)
    child = subprocess.Popen([sys.executable, "-c", CTRL_C_CHILD, str(pdd), str(seconds)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=python_env())
    events = pdd / "artifacts" / "ctrlc" / "job_events"
    def sleep_task_started():
        for path in events.glob("*.json"):
            try:
                e = json.loads(path.read_text())
            except ValueError:
                continue
            if e["event"] == "runner_on_start" and \
                    e["event_data"].get("task") == "sleep for a long time":
                return True
        return False

    deadline = time.monotonic() + 120
    started = False
    while not started and time.monotonic() < deadline and child.poll() is None:
        started = sleep_task_started()
        if not started:
            time.sleep(0.1)  # polling the awaited file, not a sleep as synchronisation
    assert started, child.communicate(timeout=30)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert json.loads(out.decode().strip().splitlines()[-1]) == {
        "status": "canceled", "rc": 254, "canceled": True}
    assert no_process_left("sleep %d" % seconds)
    assert no_process_left(str(pdd))


def test_job_timeout_ends_the_job_as_timeout(runner_module, tmp_path):
    pdd = make_pdd(tmp_path, "sleeper")
    seconds = random.randint(100000, 999999)
    r = runner_module.run(private_data_dir=str(pdd), playbook="site.yml", quiet=True,
                          timeout=5, extravars={"sleep_seconds": seconds})
    assert (r.status, r.rc, r.timed_out, r.canceled) == ("timeout", 254, True, False)
    assert (pdd / "artifacts" / str(r.config.ident) / "status").read_text() == "timeout"
    assert no_process_left("sleep %d" % seconds)
    assert no_process_left(pdd)

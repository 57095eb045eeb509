"""The five callbacks with ansible-runner's semantics, an exception in each, and `events`
while the job runs."""
import os
import random
import threading

import pytest

from conftest import job_events, make_pdd, no_process_left


def run_hello(mod, pdd, **kwargs):
    return mod.run(private_data_dir=str(pdd), playbook="site.yml", quiet=True, **kwargs)


def test_status_handler_sees_starting_running_successful(runner_module, pdd):
    seen = []

    def on_status(data, runner_config=None):
        seen.append((dict(data), runner_config))

    r = run_hello(runner_module, pdd, ident="st", status_handler=on_status)
    assert [d["status"] for d, _ in seen] == ["starting", "running", "successful"]
    assert all(d["runner_ident"] == "st" for d, _ in seen)
    starting = seen[0][0]
    assert "ansible-playbook" in " ".join(starting["command"])
    assert isinstance(starting["env"], dict) and starting["env"]
    assert os.path.isdir(starting["cwd"])
    assert "command" not in seen[1][0] and "command" not in seen[2][0]
    config = seen[0][1]
    assert config is not None
    assert os.path.samefile(config.artifact_dir, r.config.artifact_dir)


def test_event_handler_false_writes_no_job_events(runner_module, pdd):
    handled = []

    def handler(event):
        handled.append(event)
        return False

    r = run_hello(runner_module, pdd, ident="ev", event_handler=handler)
    assert r.status == "successful"
    names = [e["event"] for e in handled]
    assert names[0] == "playbook_on_start" and names[-1] == "playbook_on_stats"
    assert "runner_on_ok" in names
    assert all(e["runner_ident"] == "ev" for e in handled)
    events_dir = pdd / "artifacts" / "ev" / "job_events"
    assert [f for f in os.listdir(events_dir) if f.endswith(".json")] == []


def test_event_handler_modification_lands_in_the_file(runner_module, pdd):
    def handler(event):
        event["added_by_handler"] = "mine %d" % event["counter"]
        event.setdefault("event_data", {})["note"] = "noted"
        return True

    r = run_hello(runner_module, pdd, ident="mod", event_handler=handler)
    assert r.status == "successful"
    files = job_events(pdd / "artifacts" / "mod")
    assert files
    for e in files:
        assert e["added_by_handler"] == "mine %d" % e["counter"]
        assert e["event_data"]["note"] == "noted"


def test_event_handler_oserror_is_swallowed(runner_module, pdd):
    # ansible-runner catches IOError (= OSError) around the handler; so does arunner.
    def handler(event):
        raise OSError("disk full, say")

    r = run_hello(runner_module, pdd, event_handler=handler)
    assert (r.status, r.rc) == ("successful", 0)


def test_cancel_callback_cancels(runner_module, tmp_path):
    pdd = make_pdd(tmp_path, "sleeper")
    seconds = random.randint(100000, 999999)
    sleeping = threading.Event()
    asked = []

    def on_event(event):
        if event["event"] == "runner_on_start" and \
                event["event_data"].get("task") == "sleep for a long time":
            sleeping.set()
        return True

    def cancel():
        asked.append(True)
        return sleeping.is_set()

    r = runner_module.run(private_data_dir=str(pdd), playbook="site.yml", quiet=True,
                          extravars={"sleep_seconds": seconds}, event_handler=on_event,
                          cancel_callback=cancel)
    assert (r.status, r.rc, r.canceled) == ("canceled", 254, True)
    assert asked
    assert (pdd / "artifacts" / str(r.config.ident) / "status").read_text() == "canceled"
    assert no_process_left("sleep %d" % seconds)
    assert no_process_left(pdd)


def test_artifacts_handler_gets_the_artifact_dir_after_status_and_rc(runner_module, pdd):
    seen = []

    def handler(artifact_dir):
        seen.append((artifact_dir, open(os.path.join(artifact_dir, "status")).read(),
                     open(os.path.join(artifact_dir, "rc")).read()))

    r = run_hello(runner_module, pdd, ident="arts", artifacts_handler=handler)
    assert len(seen) == 1
    art, status, rc = seen[0]
    assert os.path.samefile(art, pdd / "artifacts" / "arts")
    assert (status, rc) == ("successful", "0")
    assert r.status == "successful"


def test_finished_callback_gets_the_runner_with_its_final_status(runner_module, tmp_path):
    pdd = make_pdd(tmp_path, "failing")
    seen = []

    def finished(runner):
        seen.append((runner, runner.status, runner.rc, runner.stats["failures"]))

    r = run_hello(runner_module, pdd, finished_callback=finished)
    assert len(seen) == 1
    runner, status, rc, failures = seen[0]
    assert runner is r
    assert (status, rc) == ("failed", 2)
    assert failures == {"localhost": 1}


CALLBACKS = ["event_handler", "status_handler", "cancel_callback", "artifacts_handler",
             "finished_callback"]


@pytest.mark.parametrize("which", CALLBACKS)
def test_exception_in_a_callback_ends_the_job_in_error(runner_module, tmp_path, which,
                                                       arunner_only):
    # ansible-runner lets the exception escape run(); arunner ends the job with status error
    # and keeps the exception's type and text.
    # The callbacks called while the job runs get a job that would sleep until canceled; the
    # two called after the end, a job that ends.
    after_the_end = which in ("artifacts_handler", "finished_callback")
    pdd = make_pdd(tmp_path, "hello" if after_the_end else "sleeper")
    seconds = random.randint(100000, 999999)

    def boom(*args, **kwargs):
        raise ValueError("boom in %s" % which)

    r = runner_module.run(private_data_dir=str(pdd), playbook="site.yml", quiet=True,
                          extravars={"sleep_seconds": seconds}, **{which: boom})
    assert r.status == "error"
    assert r.errored
    assert "ValueError" in r.error_message and ("boom in %s" % which) in r.error_message
    assert no_process_left("sleep %d" % seconds)
    assert no_process_left(pdd)


def test_events_while_the_job_runs(runner_module, tmp_path):
    # Iterating `events` of run_async's runner gives the events as they come and ends after the
    # last one: the first arrives while the job still runs (its last task waits 2 s).
    pdd = make_pdd(tmp_path, "tail-sleep")
    running = threading.Event()

    def on_status(data, runner_config=None):
        if data["status"] == "running":
            running.set()

    thread, r = runner_module.run_async(private_data_dir=str(pdd), playbook="site.yml",
                                        quiet=True, status_handler=on_status)
    # ansible-runner's generator only waits for events once the status is `running`
    assert running.wait(timeout=120)
    alive_at = []
    got = []
    for event in r.events:
        alive_at.append(thread.is_alive())
        got.append(event)
    thread.join(timeout=120)
    assert r.status == "successful"
    assert alive_at[0] is True
    assert got[0]["event"] == "playbook_on_start"
    assert got[-1]["event"] == "playbook_on_stats"
    assert [e["uuid"] for e in got] == [e["uuid"] for e in job_events(r.config.artifact_dir)]

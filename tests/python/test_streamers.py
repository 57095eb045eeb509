"""streamer='transmit' | 'worker' | 'process' joined by os.pipe(): in three threads, in three
processes, and mixed with Debian's ansible_runner on either side."""
import os
import subprocess
import sys
import threading

import pytest

from conftest import MODULE_NAME, import_module_under_test, job_events, make_pdd, python_env, signature


def comparable(events):
    """Event names, counters, hosts, tasks, plays and the stdout text of each event."""
    return [s + (e.get("stdout"),) for s, e in zip(signature(events), events)]


@pytest.fixture(scope="module")
def local_events(tmp_path_factory):
    """The job_events of the same job run locally by the module under test."""
    mod = import_module_under_test()
    pdd = make_pdd(tmp_path_factory.mktemp("local"), "hello")
    r = mod.run(private_data_dir=str(pdd), playbook="site.yml", ident="local", quiet=True)
    assert r.status == "successful"
    return comparable(job_events(pdd / "artifacts" / "local"))


def run_stage(mod, kind, fin, fout, pdd, results):
    kwargs = {"streamer": kind}
    if kind == "transmit":
        kwargs.update(private_data_dir=str(pdd), playbook="site.yml", _output=fout)
    elif kind == "worker":
        kwargs.update(private_data_dir=str(pdd), _input=fin, _output=fout)
    else:
        kwargs.update(private_data_dir=str(pdd), ident="streamed", quiet=True, _input=fin)
    try:
        obj = mod.run(**kwargs)
        results[kind] = (obj.status, obj.rc, obj)
    except BaseException as e:  # reported by the test, not lost in a thread
        results[kind] = ("raised", repr(e), None)
    finally:
        for f in (fin, fout):
            if f is not None:
                f.close()  # the next stage sees EOF


TRANSMIT_DONE = {("successful", 0), ("unstarted", None)}


def pipeline_in_threads(tmp_path, modules):
    src = make_pdd(tmp_path, "hello", "src")
    work = tmp_path / "worker"
    proc = tmp_path / "proc"
    work.mkdir()
    proc.mkdir()
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    results = {}
    stages = [
        ("transmit", None, os.fdopen(w1, "wb"), src),
        ("worker", os.fdopen(r1, "rb"), os.fdopen(w2, "wb"), work),
        ("process", os.fdopen(r2, "rb"), None, proc),
    ]
    threads = [threading.Thread(target=run_stage, args=(m, kind, fin, fout, pdd, results))
               for m, (kind, fin, fout, pdd) in zip(modules, stages)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    return results, proc / "artifacts" / "streamed"


def test_three_threads_joined_by_pipes(runner_module, tmp_path, local_events):
    results, art = pipeline_in_threads(tmp_path, [runner_module] * 3)
    # ansible-runner's Transmitter never leaves "unstarted"; arunner may say "successful"
    assert results["transmit"][:2] in TRANSMIT_DONE, results
    assert results["worker"][:2] == ("successful", 0), results
    assert results["process"][0] == "successful", results
    assert (art / "status").read_text() == "successful"
    assert (art / "rc").read_text() == "0"
    assert comparable(job_events(art)) == local_events


STAGE = r"""
import os, sys
mod = __import__(sys.argv[1])
kind, pdd = sys.argv[2], sys.argv[3]
kwargs = dict(streamer=kind, private_data_dir=pdd)
if kind == "transmit":
    kwargs.update(playbook="site.yml")
if kind == "process":
    kwargs.update(ident="streamed", quiet=True)
obj = mod.run(**kwargs)  # _input / _output: stdin's and stdout's buffers by default
sys.stderr.write("STATUS %s\n" % obj.status)
"""


def pipeline_in_processes(tmp_path, module_names):
    src = make_pdd(tmp_path, "hello", "src")
    dirs = [src, tmp_path / "worker", tmp_path / "proc"]
    dirs[1].mkdir()
    dirs[2].mkdir()
    env = python_env()
    procs = []
    stdin = subprocess.DEVNULL
    for name, kind, pdd in zip(module_names, ("transmit", "worker", "process"), dirs):
        p = subprocess.Popen([sys.executable, "-c", STAGE, name, kind, str(pdd)], stdin=stdin,
                             stdout=subprocess.PIPE if kind != "process" else subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=env)
        if stdin is not subprocess.DEVNULL:
            stdin.close()  # only the next stage holds the pipe
        stdin = p.stdout
        procs.append(p)
    errs = [p.communicate(timeout=300)[1].decode() for p in reversed(procs)][::-1]
    for p, err in zip(procs, errs):
        assert p.returncode == 0, err
    # the worker and the processor report the job's status (the transmitter: see TRANSMIT_DONE)
    assert "STATUS successful" in errs[1] and "STATUS successful" in errs[2], errs
    return dirs[2] / "artifacts" / "streamed"


def test_three_processes_joined_by_pipes(runner_module, tmp_path, local_events):
    art = pipeline_in_processes(tmp_path, [MODULE_NAME] * 3)
    assert (art / "status").read_text() == "successful"
    assert comparable(job_events(art)) == local_events


@pytest.mark.parametrize("names", [("arunner", "ansible_runner", "arunner"),
                                   ("ansible_runner", "arunner", "ansible_runner")],
                         ids=["arunner-worker-is-ansible_runner", "ansible_runner-worker-is-arunner"])
def test_mixed_with_ansible_runner_in_processes(tmp_path, local_events, names, arunner_only):
    art = pipeline_in_processes(tmp_path, list(names))
    assert (art / "status").read_text() == "successful"
    assert comparable(job_events(art)) == local_events


def test_processor_rc_comes_from_the_stream(tmp_path, arunner_only):
    # ansible-runner leaves Processor.rc None; arunner reads it from the processed artifacts.
    mod = import_module_under_test()
    results, art = pipeline_in_threads(tmp_path, [mod] * 3)
    assert results["process"][:2] == ("successful", 0), results
    assert isinstance(results["process"][2], mod.Processor)
    assert isinstance(results["worker"][2], mod.Worker)
    assert isinstance(results["transmit"][2], mod.Transmitter)


def test_processor_takes_the_five_callbacks(runner_module, tmp_path, local_events):
    from conftest import threaded_pipeline

    src = make_pdd(tmp_path, "hello", "src")
    (tmp_path / "worker").mkdir()
    (tmp_path / "proc").mkdir()
    statuses, handled, artifacts, finished, asked = [], [], [], [], []
    callbacks = dict(
        status_handler=lambda data, runner_config=None: statuses.append(dict(data)),
        event_handler=lambda e: handled.append(e) or True,
        artifacts_handler=artifacts.append,
        finished_callback=finished.append,
        cancel_callback=lambda: asked.append(True) and False,
    )
    results = threaded_pipeline(runner_module, src, tmp_path / "worker", tmp_path / "proc",
                                dict(playbook="site.yml"),
                                dict(ident="cb", quiet=True, **callbacks))
    art = tmp_path / "proc" / "artifacts" / "cb"
    assert results["process"].status == "successful"
    assert [s["status"] for s in statuses] == ["starting", "running", "successful"]
    assert "ansible-playbook" in " ".join(statuses[0]["command"])
    assert comparable(handled) == local_events
    assert comparable(job_events(art)) == local_events
    assert len(artifacts) == 1 and os.path.samefile(artifacts[0], art)
    assert finished == [results["process"]]


def test_file_objects_with_only_read_and_write(tmp_path, arunner_only):
    # arunner takes anything with read()/write() (ansible-runner needs a real file's `name`)
    import io

    mod = import_module_under_test()
    src = make_pdd(tmp_path, "hello", "src")
    (tmp_path / "worker").mkdir()
    (tmp_path / "proc").mkdir()
    job = io.BytesIO()
    mod.run(streamer="transmit", private_data_dir=str(src), playbook="site.yml", _output=job)
    assert job.getvalue().endswith(b'{"eof": true}\n')
    events = io.BytesIO()
    w = mod.run(streamer="worker", private_data_dir=str(tmp_path / "worker"),
                _input=io.BytesIO(job.getvalue()), _output=events)
    assert (w.status, w.rc) == ("successful", 0)
    p = mod.run(streamer="process", private_data_dir=str(tmp_path / "proc"), ident="bytes",
                quiet=True, _input=io.BytesIO(events.getvalue()))
    assert (p.status, p.rc) == ("successful", 0)
    assert len(job_events(tmp_path / "proc" / "artifacts" / "bytes")) > 5

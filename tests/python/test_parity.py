"""The same job through the Python module, through the C++ library's CLI (`arunner run`, a thin
caller of the library the module wraps) and through Debian's ansible_runner.run: the same
events, the same artifacts."""
import os
import subprocess

import ansible_runner as debian_runner  # Debian's 2.3.1, the reference, by name

from conftest import arunner_binary, job_events, make_pdd, signature

FIXTURE = "parity"  # ok, changed, failed+ignored, skipped, loop items, a handler, two plays


def art_files(art):
    """The artifact dir's file names, and how many job_events files it holds."""
    top = sorted(os.listdir(art))
    return top, len(os.listdir(os.path.join(art, "job_events")))


def test_module_and_cli_leave_the_same_events_and_artifacts(runner_module, tmp_path):
    binary = arunner_binary()
    pdd = make_pdd(tmp_path, FIXTURE)
    cli = subprocess.run([binary, "run", str(pdd), "-p", "site.yml", "-i", "cli", "-q"],
                         capture_output=True, timeout=300)
    assert cli.returncode == 0, cli.stderr
    r = runner_module.run(private_data_dir=str(pdd), playbook="site.yml", ident="py", quiet=True)
    assert (r.status, r.rc) == ("successful", 0)
    cli_art, py_art = pdd / "artifacts" / "cli", pdd / "artifacts" / "py"
    assert (cli_art / "status").read_text() == (py_art / "status").read_text() == "successful"
    assert (cli_art / "rc").read_text() == (py_art / "rc").read_text() == "0"
    assert (py_art / "stdout").read_text() == (cli_art / "stdout").read_text()
    assert art_files(py_art) == art_files(cli_art)
    py_events, cli_events = job_events(py_art), job_events(cli_art)
    assert [e["event"] for e in py_events] == [e["event"] for e in cli_events]
    assert signature(py_events) == signature(cli_events)
    for p, c in zip(py_events, cli_events):
        assert sorted(p) == sorted(c), p["event"]
        assert sorted(p["event_data"]) == sorted(c["event_data"]), p["event"]
        assert p["stdout"] == c["stdout"], p["event"]
        assert (p["start_line"], p["end_line"]) == (c["start_line"], c["end_line"])


def test_module_and_ansible_runner_give_the_same_events(runner_module, tmp_path):
    pdd = make_pdd(tmp_path, FIXTURE)
    seen = {"ours": [], "theirs": []}
    ours = runner_module.run(private_data_dir=str(pdd), playbook="site.yml", ident="ours",
                             quiet=True, event_handler=lambda e: seen["ours"].append(e) or True)
    theirs = debian_runner.run(private_data_dir=str(pdd), playbook="site.yml", ident="theirs",
                               quiet=True,
                               event_handler=lambda e: seen["theirs"].append(e) or True)
    assert (ours.status, ours.rc) == (theirs.status, theirs.rc) == ("successful", 0)
    ours_events = job_events(pdd / "artifacts" / "ours")
    theirs_events = job_events(pdd / "artifacts" / "theirs")
    # event names, counters, hosts, tasks and plays, in order; not uuids, pids or timestamps
    assert signature(ours_events) == signature(theirs_events)
    assert signature(seen["ours"]) == signature(seen["theirs"])
    assert ours.stats == theirs.stats
    assert art_files(pdd / "artifacts" / "ours") == art_files(pdd / "artifacts" / "theirs")
    for o, t in zip(ours_events, theirs_events):
        assert sorted(o["event_data"]) == sorted(t["event_data"]), o["event"]

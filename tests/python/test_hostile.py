"""What a hostile worker stream or a careless caller can do to the Python module: an error that
says why, never a crash of the controller's Python process (arunner only: ansible-runner's
Processor dies of a RecursionError on the first stream below)."""
import io
import subprocess
import sys
import textwrap

import pytest

UUID = "00000000-0000-4000-8000-000000000001"
END = b'{"status": "successful", "runner_ident": "x"}\n{"eof": true}\n'


def nested_event(depth):
    return (b'{"counter": 1, "uuid": "' + UUID.encode() + b'", "event": "verbose", '
            b'"stdout": "x", "event_data": ' + b"[" * depth + b"]" * depth + b"}\n")


def test_a_stream_nested_beyond_pythons_limit_ends_in_error_not_a_crash(tmp_path, arunner_only):
    # In a child process: a stack overflow would kill it (SIGSEGV), not fail an assert.
    stream = tmp_path / "deep.stream"
    stream.write_bytes(nested_event(2_000_000) + END)
    script = textwrap.dedent("""
        import sys, arunner
        seen = []
        with open(sys.argv[1], "rb") as f:
            p = arunner.run(streamer="process", _input=f, private_data_dir=sys.argv[2],
                            quiet=True, event_handler=lambda e: seen.append(e) or True)
        print(p.status, len(seen))
        print(p.error_message[:200])
    """)
    (tmp_path / "pdd").mkdir()
    done = subprocess.run([sys.executable, "-c", script, str(stream), str(tmp_path / "pdd")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    status_line, message = done.stdout.splitlines()[:2]
    assert status_line == "error 0"
    assert "nested more than 1000 levels deep" in message


def test_an_event_as_deep_as_python_allows_reaches_the_handler(tmp_path, runner_module,
                                                                arunner_only):
    seen = []
    p = runner_module.run(streamer="process", _input=io.BytesIO(nested_event(990) + END),
                          private_data_dir=str(tmp_path), quiet=True,
                          event_handler=lambda e: seen.append(e) or True)
    assert p.status == "successful", p.error_message
    depth, value = 0, seen[0]["event_data"]
    while value:
        value, depth = value[0], depth + 1
    assert depth == 989


def test_a_circular_keyword_value_is_an_error_naming_the_keyword(pdd, runner_module, arunner_only):
    loop = {}
    loop["self"] = loop
    with pytest.raises(TypeError, match="extravars.*nested more than 1000 levels"):
        runner_module.run(private_data_dir=str(pdd), playbook="site.yml", extravars=loop)
    with pytest.raises(TypeError, match="extravars.*Object of type set is not JSON serializable"):
        runner_module.run(private_data_dir=str(pdd), playbook="site.yml", extravars={"a": {1}})


def test_a_handler_that_puts_what_json_cannot_hold_into_an_event_ends_the_job(pdd, runner_module,
                                                                             arunner_only):
    def handler(event):
        event["mine"] = {1, 2}
        return True

    r = runner_module.run(private_data_dir=str(pdd), playbook="site.yml", quiet=True,
                          event_handler=handler)
    assert r.status == "error"
    assert r.errored
    assert r.error_message.startswith("Exception in Event Handler: ")
    assert "Object of type set is not JSON serializable" in r.error_message
    assert not list((pdd / "artifacts").glob("*/job_events/*.json"))


def test_unicode_escapes_of_an_event_reach_the_handler_decoded(tmp_path, runner_module):
    line = (b'{"counter": 1, "uuid": "' + UUID.encode() +
            b'", "event": "verbose", "stdout": "caf\\u00e9 ok"}\n')
    seen = []
    p = runner_module.run(streamer="process", _input=io.BytesIO(line + END),
                          private_data_dir=str(tmp_path), quiet=True,
                          event_handler=lambda e: seen.append(e["stdout"]) or True)
    assert p.status == "successful"
    assert seen == ["caf\u00e9 ok"]


def test_a_cut_stream_tells_the_status_handler_why(tmp_path, runner_module):
    # AWX shows a job's job_explanation: the processor's status handler gets it with `error`.
    statuses = []
    line = (b'{"counter": 1, "uuid": "' + UUID.encode() +
            b'", "event": "verbose", "stdout": "x"}\n')
    p = runner_module.run(streamer="process", _input=io.BytesIO(line),
                          private_data_dir=str(tmp_path), quiet=True,
                          status_handler=lambda data, runner_config: statuses.append(data))
    assert p.status == "error"
    assert statuses[-1]["status"] == "error"
    assert statuses[-1]["job_explanation"]  # ansible-runner: "Failed to JSON parse a line ..."

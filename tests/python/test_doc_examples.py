"""Every example of the documentation page issue 16 started from
(/work/shared/seed/streaming-distributed.txt, "Streaming and Distributed Execution") that can run
on one machine, under `import arunner as ansible_runner`, with only paths, inventories and the
image name changed -- and, where an example cannot work as written (under ansible-runner
either), what it means, with the reason in a comment.

Inventories: the page passes `inventory='hosts'`; under ansible-runner a string that is not an
existing path is inventory TEXT (a host called "hosts"). The tests pass the real, absolute path
of the private data dir's inventory/hosts instead (ansible-runner's transmitter sends such a path
relative to the private data dir, and its worker resolves it under its own). Image: localhost/arunner-ee instead of quay.io/ansible/ansible-runner:latest (no
registry here)."""
import json
import queue


from conftest import import_module_under_test, job_events, make_pdd, threaded_pipeline

ansible_runner = import_module_under_test()  # `import arunner as ansible_runner`


def stream_lines(data):
    """The JSON lines of a transmit or worker stream (the zip's bytes left out)."""
    out = []
    for line in data.split(b"\n"):
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


# --- Transmitter, Worker, Processor: the three usage examples, one after the other, each
# reading what the one before wrote (as written they read stdin / write stdout; here files).
def test_transmitter_worker_processor_examples(tmp_path):
    shared = make_pdd(tmp_path, "hello", "shared")
    inventory = str(shared / "inventory" / "hosts")
    with open(tmp_path / "job.stream", "wb") as out:
        result = ansible_runner.run(private_data_dir=str(shared), playbook="site.yml",
                                    inventory=inventory, streamer="transmit", _output=out)
    assert type(result).__name__ == "Transmitter"  # ansible_runner.streaming.Transmitter
    sent = (tmp_path / "job.stream").read_bytes()
    lines = stream_lines(sent)
    assert lines[0]["kwargs"]["playbook"] == "site.yml"
    assert "zipfile" in lines[1]
    assert sent.endswith(b'{"eof": true}\n')

    work = tmp_path / "worker"
    work.mkdir()
    with open(tmp_path / "job.stream", "rb") as inp, open(tmp_path / "events.stream", "wb") as out:
        result = ansible_runner.run(private_data_dir=str(work), playbook="site.yml",
                                    inventory=inventory, streamer="worker", _input=inp,
                                    _output=out)
    assert type(result).__name__ == "Worker"
    assert (result.status, result.rc) == ("successful", 0)
    got = stream_lines((tmp_path / "events.stream").read_bytes())
    assert [d["status"] for d in got if "status" in d] == ["starting", "running", "successful"]
    assert any(d.get("event") == "playbook_on_stats" for d in got)
    assert (tmp_path / "events.stream").read_bytes().endswith(b'{"eof": true}\n')

    proc = tmp_path / "processor"
    proc.mkdir()
    with open(tmp_path / "events.stream", "rb") as inp:
        result = ansible_runner.run(private_data_dir=str(proc), playbook="site.yml",
                                    inventory=inventory, streamer="process", _input=inp,
                                    ident="done", quiet=True)
    assert type(result).__name__ == "Processor"
    assert result.status == "successful"
    art = proc / "artifacts" / "done"
    assert (art / "status").read_text() == "successful"
    events = job_events(art)
    assert [e["event_data"].get("task") for e in events if e["event"] == "runner_on_ok"] == \
        ["say hello", "a loop"]
    assert "hello from arunner" in (art / "stdout").read_text()


# --- Event Streaming with Custom Handlers: the class as written.
class StreamingEventHandler:
    def __init__(self):
        self.event_queue = queue.Queue()
        self.processed_events = []

    def handle_event(self, event):
        """Handle streaming events"""
        self.event_queue.put(event)
        self.processed_events.append(event)

        # Real-time event processing
        if event['event'] == 'runner_on_failed':
            self.handle_failure(event)
        elif event['event'] == 'playbook_on_stats':
            self.handle_completion(event)

        return True

    def handle_failure(self, event):
        """Handle task failures in real-time"""
        host = event['event_data']['host']
        task = event['event_data']['task']
        print(f"FAILURE: Task '{task}' failed on host '{host}'")

    def handle_completion(self, event):
        """Handle playbook completion"""
        stats = event['event_data']
        print(f"Playbook completed with stats: {json.dumps(stats, indent=2)}")

    def get_events(self):
        """Get all queued events"""
        events = []
        while not self.event_queue.empty():
            events.append(self.event_queue.get())
        return events


def test_streaming_event_handler_example(tmp_path, capsys):
    shared = make_pdd(tmp_path, "failing", "project")
    # As written: the handler given to streamer='transmit'. A transmitter runs nothing, so
    # there are no events to handle (ansible-runner's Transmitter ignores event_handler too):
    handler = StreamingEventHandler()
    with open(tmp_path / "job.stream", "wb") as out:
        ansible_runner.run(private_data_dir=str(shared), playbook="site.yml",
                           inventory=str(shared / "inventory" / "hosts"),
                           event_handler=handler.handle_event,
                           streamer="transmit", _output=out)
    assert handler.get_events() == []
    # What it means: the handler on the side where events arrive, the processor of the
    # transmit -> worker -> process pipeline.
    (tmp_path / "worker").mkdir()
    (tmp_path / "proc").mkdir()
    handler = StreamingEventHandler()
    results = threaded_pipeline(ansible_runner, shared, tmp_path / "worker", tmp_path / "proc",
                       dict(playbook="site.yml", inventory=str(shared / "inventory" / "hosts")),
                       dict(event_handler=handler.handle_event, ident="handled", quiet=True))
    assert results["process"].status == "failed"
    all_events = handler.get_events()
    print(f"Processed {len(all_events)} streaming events")
    printed = capsys.readouterr().out
    assert "FAILURE: Task 'this fails' failed on host 'localhost'" in printed
    assert "Playbook completed with stats: {" in printed and '"failures": {' in printed
    assert f"Processed {len(all_events)} streaming events" in printed
    assert all_events == handler.processed_events
    on_disk = job_events(tmp_path / "proc" / "artifacts" / "handled")
    assert [e["uuid"] for e in all_events] == [e["uuid"] for e in on_disk]
    assert all_events[-1]["event"] == "playbook_on_stats"

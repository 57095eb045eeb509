"""The examples of the documentation page (/work/shared/seed/streaming-distributed.txt) that
use process isolation: "Basic Streaming Workflow", "Distributed Execution with Process
Isolation", "Real-time Monitoring", "Custom Streaming Configuration", under
`import arunner as ansible_runner`, in containers of localhost/arunner-ee on a private podman
service (see conftest.podman_service) -- with only paths, inventories and the image name
changed, and, where an example cannot work as written (under ansible-runner either), what it
means, with the reason in a comment. Inventories: see test_doc_examples.py."""
import json
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

from conftest import EE_IMAGE, MODULE_NAME, import_module_under_test, job_events, python_env, threaded_pipeline

ansible_runner = import_module_under_test()  # `import arunner as ansible_runner`


# --- The examples with process isolation (podman, a private service; see conftest).
def write_job(shared, playbook_text):
    (shared / "project").mkdir(parents=True, exist_ok=True)
    (shared / "inventory").mkdir(parents=True, exist_ok=True)
    (shared / "project" / "site.yml").write_text(playbook_text)
    (shared / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n")


ISOLATED_PLAY = """
- name: isolated play
  hosts: all
  gather_facts: false
  tasks:
    - name: where am I
      command: cat /etc/hostname
      register: where
    - name: read the shared file
      command: cat {marker}
      register: marker
    - name: report
      debug:
        msg: "mode={{{{ lookup('env', 'ANSIBLE_STREAMING_MODE') }}}} marker={{{{ marker.stdout }}}} host={{{{ where.stdout }}}}"
{more}"""


def isolated(shared, marker_text, more=""):
    marker = shared / "marker.txt"
    write_job(shared, ISOLATED_PLAY.format(marker=marker, more=more))
    marker.write_text(marker_text)


def report_of(events):
    """The report task's message without the host name, after checking that the play ran in a
    container (its /etc/hostname is not this machine's)."""
    for e in events:
        if e["event"] == "runner_on_ok" and e["event_data"].get("task") == "report":
            msg, host = e["event_data"]["res"]["msg"].split(" host=")
            assert host and host != open("/etc/hostname").read().strip()
            return msg
    return None


def test_basic_streaming_workflow(tmp_path, container_host):
    # As written, the three run() calls are not connected (each reads stdin / writes stdout of
    # one process), and three workers cannot share one job's stream: what it means is one
    # transmitter, one worker and one processor in threads, joined by os.pipe(), with the
    # worker's job in a container (process_isolation=True).
    shared = tmp_path / "ansible"
    isolated(shared, "basic")
    (tmp_path / "worker").mkdir()
    (tmp_path / "proc").mkdir()
    common = dict(playbook="site.yml", inventory=str(shared / "inventory" / "hosts"),
                  process_isolation=True,
                  process_isolation_executable="podman", container_image=EE_IMAGE,
                  container_volume_mounts=[f"{shared}:{shared}:Z"])
    results = threaded_pipeline(ansible_runner, shared, tmp_path / "worker", tmp_path / "proc", common,
                       dict(ident="basic", quiet=True))
    assert results["worker"].status == "successful"
    assert results["process"].status == "successful"
    events = job_events(tmp_path / "proc" / "artifacts" / "basic")
    assert report_of(events) == "mode= marker=basic"
    assert container_host() == []


DISTRIBUTED_COMPONENT = '''
import sys
import {module} as ansible_runner
component = "{component}"
extra = dict(ident="processed", quiet=True) if component == "process" else {{}}
result = ansible_runner.run(
    private_data_dir="{shared_dir}",
    playbook="site.yml",
    inventory="{shared_dir}/inventory/hosts",
    streamer="{component}",
    process_isolation=True,
    process_isolation_executable="podman",
    container_image="{image}",
    container_volume_mounts=["{shared_dir}:{shared_dir}:Z"],
    **extra
)
print(f"Component {{component}} finished with status: {{result.status}}", file=sys.stderr)
'''


def test_distributed_execution_with_process_isolation(tmp_path, container_host):
    # setup_distributed_environment() as written, under tmp_path instead of /tmp.
    shared_dir = str(tmp_path / "ansible-distributed")
    os.makedirs(f"{shared_dir}/project", exist_ok=True)
    os.makedirs(f"{shared_dir}/inventory", exist_ok=True)
    os.makedirs(f"{shared_dir}/artifacts", exist_ok=True)
    isolated(Path(shared_dir), "distributed")
    # As written, the four processes share nothing but a directory: the transmitter writes its
    # stream to stdout, which nobody reads. What it means: transmit | worker | process, joined
    # by pipes (stdin/stdout are the default _input/_output); one worker, as one job's stream
    # goes to one worker. The processor gets an ident to find its artifacts by, and the final
    # print goes to stderr, since stdout carries the stream.
    processes = []
    stdin = subprocess.DEVNULL
    for component in ["transmit", "worker", "process"]:
        code = DISTRIBUTED_COMPONENT.format(module=MODULE_NAME, component=component,
                                            shared_dir=shared_dir, image=EE_IMAGE)
        proc = subprocess.Popen([sys.executable, "-c", code], stdin=stdin,
                                stdout=subprocess.PIPE if component != "process" else None,
                                stderr=subprocess.PIPE, env=python_env())
        if stdin is not subprocess.DEVNULL:
            stdin.close()
        stdin = proc.stdout
        processes.append(proc)
    errs = [p.communicate(timeout=600)[1].decode() for p in reversed(processes)][::-1]
    assert [p.returncode for p in processes] == [0, 0, 0], errs
    assert "Component worker finished with status: successful" in errs[1], errs
    assert "Component process finished with status: successful" in errs[2], errs
    art = Path(shared_dir) / "artifacts" / "processed"
    assert (art / "status").read_text() == "successful"
    assert report_of(job_events(art)) == "mode= marker=distributed"
    assert container_host() == []


# --- Real-time Monitoring: the class as written, but for the path of job_events (below).
class DistributedMonitor:
    def __init__(self, private_data_dir):
        self.private_data_dir = private_data_dir
        self.stats = defaultdict(int)
        self.active_hosts = set()
        self.failed_hosts = set()
        self.monitoring = True

    def start_monitoring(self):
        """Start real-time monitoring thread"""
        monitor_thread = threading.Thread(target=self._monitor_events)
        monitor_thread.daemon = True
        monitor_thread.start()
        return monitor_thread

    def _monitor_events(self):
        """Monitor execution events in real-time"""
        # Changed: a job's events are in artifacts/<ident>/job_events, not artifacts/job_events
        # (only a processor given no ident writes there); the test passes the ident's dir.
        events_dir = f"{self.private_data_dir}/job_events"
        processed_files = set()

        while self.monitoring:
            try:
                if os.path.exists(events_dir):
                    event_files = os.listdir(events_dir)
                    new_files = set(event_files) - processed_files

                    for filename in new_files:
                        if filename.endswith('.json'):
                            filepath = os.path.join(events_dir, filename)
                            try:
                                with open(filepath, 'r') as f:
                                    event = json.load(f)
                                self._process_event(event)
                                processed_files.add(filename)
                            except (json.JSONDecodeError, IOError):
                                # File may still be being written
                                pass

                time.sleep(0.5)
            except Exception as e:
                print(f"Monitoring error: {e}")

    def _process_event(self, event):
        """Process individual events for monitoring"""
        event_type = event.get('event')
        self.stats[event_type] += 1

        if 'event_data' in event:
            host = event['event_data'].get('host')
            if host:
                self.active_hosts.add(host)

            if event_type == 'runner_on_failed':
                self.failed_hosts.add(host)

    def get_status_summary(self):
        """Get current execution status summary"""
        return {
            'total_events': sum(self.stats.values()),
            'active_hosts': len(self.active_hosts),
            'failed_hosts': len(self.failed_hosts),
            'event_breakdown': dict(self.stats)
        }

    def stop_monitoring(self):
        """Stop monitoring"""
        self.monitoring = False


def test_real_time_monitoring(tmp_path, container_host, capsys):
    # As written, run(streamer='transmit') blocks until the job is sent and runs nothing, so
    # there is nothing to monitor and the progress loop never runs. What it means: the job run
    # in the background (run_async), in a container, watched while it runs. To make "while it
    # runs" certain rather than likely, the play's last task waits for a file the test writes
    # once the monitor has counted events.
    shared = tmp_path / "ansible"
    go = shared / "go"
    isolated(shared, "monitored", more="""    - name: wait for the monitor
      wait_for:
        path: %s
        timeout: 300
""" % go)
    monitor = DistributedMonitor(str(shared / "artifacts" / "monitored"))
    monitor_thread = monitor.start_monitoring()

    thread, result = ansible_runner.run_async(
        private_data_dir=str(shared),
        playbook="site.yml",
        inventory=str(shared / "inventory" / "hosts"),
        ident="monitored",
        process_isolation=True,
        process_isolation_executable="podman",
        container_image=EE_IMAGE,
        container_volume_mounts=[f"{shared}:{shared}:Z"],
        quiet=True,
    )
    seen_while_running = 0
    deadline = time.monotonic() + 600
    while thread.is_alive() and time.monotonic() < deadline:
        summary = monitor.get_status_summary()
        print(f"Progress: {summary['total_events']} events, "
              f"{summary['active_hosts']} hosts, "
              f"{summary['failed_hosts']} failures")
        if summary["total_events"] and not go.exists():
            seen_while_running = summary["total_events"]
            go.write_text("go")
        time.sleep(0.5)  # the example's pacing of its progress lines (it says 5 s)
    thread.join(timeout=60)
    assert result.status == "successful"
    assert seen_while_running > 0
    # let the monitor's last pass see the last files, then stop it
    files = len(job_events(shared / "artifacts" / "monitored"))
    while monitor.get_status_summary()["total_events"] < files and time.monotonic() < deadline:
        time.sleep(0.1)  # awaiting the monitor's count
    monitor.stop_monitoring()
    monitor_thread.join(timeout=10)
    print(f"Execution completed: {result.status}")
    final_summary = monitor.get_status_summary()
    print(f"Final stats: {json.dumps(final_summary, indent=2)}")
    # ">=": the example counts ansible-runner's transient *-partial.json files as well
    assert final_summary["total_events"] >= files
    assert final_summary["active_hosts"] == 1 and final_summary["failed_hosts"] == 0
    assert final_summary["event_breakdown"]["playbook_on_stats"] >= 1
    assert "Progress: " in capsys.readouterr().out
    assert container_host() == []


# --- Custom Streaming Configuration: create_streaming_config as written (image changed).
def create_streaming_config(mode, shared_dir, **kwargs):
    """Create configuration for streaming components"""
    base_config = {
        'private_data_dir': shared_dir,
        'process_isolation': True,
        'process_isolation_executable': 'podman',
        'container_image': EE_IMAGE,
        'container_volume_mounts': [f"{shared_dir}:{shared_dir}:Z"],
        'envvars': {
            'ANSIBLE_HOST_KEY_CHECKING': 'False',
            'ANSIBLE_STREAMING_MODE': mode
        }
    }

    base_config.update(kwargs)
    return base_config


def test_custom_streaming_configuration(tmp_path, container_host):
    shared_dir = str(tmp_path / "ansible-streaming")
    isolated(Path(shared_dir), "custom")
    inventory = f"{shared_dir}/inventory/hosts"
    transmit_config = create_streaming_config('transmit', shared_dir, playbook='site.yml',
                                              inventory=inventory, streamer='transmit')
    worker_config = create_streaming_config('worker', shared_dir, playbook='site.yml',
                                            inventory=inventory, streamer='worker')
    process_config = create_streaming_config('process', shared_dir, playbook='site.yml',
                                             inventory=inventory, streamer='process')
    # As written, the three calls read stdin and write stdout of one process, one after the
    # other: nothing joins them. What it means: each stage reads what the one before wrote;
    # files do that for calls made one after the other. The processor gets an ident to find
    # its artifacts by.
    job, events = tmp_path / "job.stream", tmp_path / "events.stream"
    with open(job, "wb") as out:
        ansible_runner.run(**transmit_config, _output=out)
    with open(job, "rb") as inp, open(events, "wb") as out:
        worker_result = ansible_runner.run(**worker_config, _input=inp, _output=out)
    with open(events, "rb") as inp:
        process_result = ansible_runner.run(**process_config, _input=inp, ident="custom",
                                            quiet=True)
    assert worker_result.status == "successful"
    assert process_result.status == "successful"
    art = Path(shared_dir) / "artifacts" / "custom"
    # the job runs with the transmitted kwargs, so with the transmitter's envvars
    assert report_of(job_events(art)) == "mode=transmit marker=custom"
    assert container_host() == []

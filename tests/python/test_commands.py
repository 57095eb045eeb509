"""run_command(), run_command_async() and the get_* helpers (issue 17) with ansible-runner's
signatures and return values, against real ansible-core. Each runs against Debian's
ansible_runner too (ARUNNER_PY_MODULE=ansible_runner)."""
import shutil

import pytest

from conftest import UNDER_DEBIAN, make_pdd

HOST_VARS = "ansible_connection=local ansible_python_interpreter=/usr/bin/python3"


@pytest.fixture
def inventory_file(tmp_path):
    path = tmp_path / "hosts.ini"
    path.write_text("[web]\nweb1 %s\nweb2 %s\n[db]\ndb1 %s\n" % ((HOST_VARS,) * 3))
    return str(path)


def test_run_command_subprocess_with_input_and_output_fds(runner_module, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("line one\nline two\n")
    out_path = tmp_path / "out.txt"
    with open(source) as inp, open(out_path, "w") as out:
        response, error, rc = runner_module.run_command(
            executable_cmd="cat", cmdline_args=["-n"], input_fd=inp, output_fd=out,
            runner_mode="subprocess", private_data_dir=str(tmp_path / "pdd"))
    assert rc == 0
    assert response == "" and error == "", "output_fd took the output"
    assert out_path.read_text() == "     1\tline one\n     2\tline two\n"


def test_run_command_subprocess_captures_both_streams_and_the_rc(runner_module, tmp_path):
    response, error, rc = runner_module.run_command(
        executable_cmd="sh", cmdline_args=["-c", "echo out; echo err >&2; exit 3"],
        runner_mode="subprocess", private_data_dir=str(tmp_path / "pdd"), quiet=True)
    assert (response, error, rc) == ("out\n", "err\n", 3)


def test_run_command_pexpect_merges_the_streams(runner_module, tmp_path):
    # pexpect is the default for a command that is not ansible-config/-doc/-galaxy (an explicit
    # runner_mode='pexpect' trips ansible-runner 2.3.1's inverted input_fd check).
    response, error, rc = runner_module.run_command(
        executable_cmd="sh", cmdline_args=["-c", "echo out; echo err >&2"],
        private_data_dir=str(tmp_path / "pdd"), quiet=True)
    assert rc == 0
    assert error == ""
    assert response.replace("\r\n", "\n") == "out\nerr\n"


def test_run_command_of_a_playbook_gives_its_events(runner_module, tmp_path):
    pdd = make_pdd(tmp_path, "hello")
    seen = []
    response, error, rc = runner_module.run_command(
        executable_cmd="ansible-playbook",
        cmdline_args=["-i", str(pdd / "inventory" / "hosts"), str(pdd / "project" / "site.yml")],
        private_data_dir=str(pdd), quiet=True,
        event_handler=lambda e: seen.append(e["event"]) or True)
    assert rc == 0, response
    assert "hello from arunner" in response
    assert "playbook_on_start" in seen and "runner_on_ok" in seen and seen[-1] == "playbook_on_stats"


def test_run_command_async(runner_module, tmp_path):
    thread, runner = runner_module.run_command_async(
        executable_cmd="sh", cmdline_args=["-c", "echo async"], runner_mode="subprocess",
        private_data_dir=str(tmp_path / "pdd"), quiet=True)
    thread.join(60)
    assert not thread.is_alive()
    assert (runner.status, runner.rc) == ("successful", 0)
    assert runner.stdout.read() == "async\n"


def test_bad_runner_mode_is_a_configuration_error(runner_module, tmp_path):
    with pytest.raises(runner_module.ConfigurationError, match="Invalid runner mode"):
        runner_module.run_command(executable_cmd="true", runner_mode="tty",
                                  private_data_dir=str(tmp_path))


def test_get_plugin_docs_of_a_known_module(runner_module, tmp_path):
    response, error = runner_module.get_plugin_docs(
        plugin_names=["ansible.builtin.ping"], plugin_type="module", response_format="json",
        private_data_dir=str(tmp_path / "pdd"), quiet=True)
    doc = response["ansible.builtin.ping"]["doc"]
    assert doc["short_description"] == "Try to connect to host, verify a usable python and return V(pong) on success" \
        or "pong" in doc["short_description"]
    assert "data" in doc["options"]


def test_get_plugin_docs_wants_a_list(runner_module, tmp_path):
    with pytest.raises(runner_module.ConfigurationError, match="plugin_names should be of type list"):
        runner_module.get_plugin_docs(plugin_names="ping", private_data_dir=str(tmp_path))


def test_get_plugin_list_holds_ping(runner_module, tmp_path):
    response, error = runner_module.get_plugin_list(
        response_format="json", plugin_type="module", private_data_dir=str(tmp_path / "pdd"),
        quiet=True)
    assert "ansible.builtin.ping" in response


def test_get_inventory_list_host_and_graph(runner_module, tmp_path, inventory_file):
    pdd = str(tmp_path / "pdd")
    response, error = runner_module.get_inventory(
        action="list", inventories=[inventory_file], response_format="json",
        private_data_dir=pdd, quiet=True)
    assert sorted(response["web"]["hosts"]) == ["web1", "web2"]
    assert response["db"]["hosts"] == ["db1"]
    host, error = runner_module.get_inventory(
        action="host", inventories=[inventory_file], host="db1", response_format="json",
        private_data_dir=pdd, quiet=True)
    assert host["ansible_connection"] == "local"
    graph, error = runner_module.get_inventory(
        action="graph", inventories=[inventory_file], private_data_dir=pdd, quiet=True)
    assert "@web:" in graph and "web1" in graph
    yaml_text, error = runner_module.get_inventory(
        action="list", inventories=[inventory_file], response_format="yaml",
        private_data_dir=pdd, quiet=True)
    assert isinstance(yaml_text, str) and "web1" in yaml_text


def test_get_inventory_bad_arguments(runner_module, tmp_path, inventory_file):
    with pytest.raises(runner_module.ConfigurationError, match="Invalid action"):
        runner_module.get_inventory(action="dump", inventories=[inventory_file],
                                    private_data_dir=str(tmp_path))
    with pytest.raises(runner_module.ConfigurationError, match="host parameter is required"):
        runner_module.get_inventory(action="host", inventories=[inventory_file],
                                    private_data_dir=str(tmp_path))
    with pytest.raises(runner_module.ConfigurationError, match="Invalid response_format"):
        runner_module.get_inventory(action="list", inventories=[inventory_file],
                                    response_format="xml", private_data_dir=str(tmp_path))


def test_get_ansible_config_dump_has_a_known_key(runner_module, tmp_path):
    response, error = runner_module.get_ansible_config(
        action="dump", private_data_dir=str(tmp_path / "pdd"), quiet=True)
    assert "DEFAULT_FORKS" in response


def test_get_role_list_and_argspec(runner_module, tmp_path):
    pdd = make_pdd(tmp_path, "role")
    project = str(pdd / "project")
    response, error = runner_module.get_role_list(playbook_dir=project,
                                                   private_data_dir=str(pdd), quiet=True)
    assert "greet" in response, (response, error)
    spec, error = runner_module.get_role_argspec("greet", playbook_dir=project,
                                                 private_data_dir=str(pdd), quiet=True)
    options = spec["greet"]["entry_points"]["main"]["options"]
    assert options["who"]["type"] == "str"
    assert options["port"]["type"] == "int"


def test_a_missing_executable_is_named(runner_module, tmp_path, monkeypatch):
    if UNDER_DEBIAN:
        pytest.skip("ansible-runner looks the executable up when the module is imported")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(runner_module.ConfigurationError, match="ansible-config command not found"):
        runner_module.get_ansible_config(action="list", private_data_dir=str(tmp_path))
    assert shutil.which("ansible-config") is None

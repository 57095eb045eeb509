"""run()'s inputs given as values (issue 17): a role, plays, an inventory as text, a mapping or
a list of paths, extravars as a mapping or a file, envvars and settings dumped into env/, and
no private data dir at all. Each runs against Debian's ansible_runner too."""
import gc
import json
import os

import pytest

from conftest import UNDER_DEBIAN, job_events, make_pdd

HOST_VARS = "ansible_connection=local ansible_python_interpreter=/usr/bin/python3"


def ok_hosts(runner):
    return sorted({e["event_data"]["host"] for e in runner.events if e["event"] == "runner_on_ok"})


def outline(events):
    return [(e["event"], e.get("event_data", {}).get("task", ""),
             e.get("event_data", {}).get("host", "")) for e in events]


def test_a_role_runs_as_ansible_runners_generated_play(runner_module, tmp_path):
    pdd = make_pdd(tmp_path, "role")
    r = runner_module.run(private_data_dir=str(pdd), role="greet", role_vars={"who": "api"},
                          hosts="localhost", role_skip_facts=True, quiet=True, ident="r")
    assert (r.status, r.rc) == ("successful", 0)
    stdout = r.stdout.read()
    assert "hello api on port 0" in stdout
    tasks = [e["event_data"]["task"] for e in r.events if e["event"] == "runner_on_ok"]
    # The role's meta/argument_specs.yml adds ansible's validation task first.
    assert tasks[0].startswith("Validating arguments against arg spec 'main'")
    assert tasks[1:] == ["greet", "count"]
    assert all(e["event"] != "runner_on_ok" or e["event_data"]["role"] == "greet"
               for e in r.events)


def test_a_role_from_the_private_data_dirs_roles(runner_module, tmp_path):
    pdd = make_pdd(tmp_path, "role")
    r = runner_module.run(private_data_dir=str(pdd), role="pddrole", quiet=True)
    assert (r.status, r.rc) == ("successful", 0)
    assert "pddrole ran" in r.stdout.read()


def test_plays_as_a_playbook(runner_module, tmp_path):
    pdd = make_pdd(tmp_path, "hello")
    plays = {"hosts": "all", "gather_facts": False,
             "tasks": [{"name": "inline", "debug": {"msg": "from plays"}}]}
    r = runner_module.run(private_data_dir=str(pdd), playbook=plays, quiet=True)
    assert (r.status, r.rc) == ("successful", 0)
    assert "from plays" in r.stdout.read()
    assert json.loads((pdd / "project" / "main.json").read_text()) == [plays]


@pytest.mark.parametrize("shape", ["text", "mapping", "list"])
def test_an_inventory_given_each_way_reaches_the_play(runner_module, tmp_path, shape):
    pdd = make_pdd(tmp_path, "hello")
    os.remove(pdd / "inventory" / "hosts")
    if shape == "text":
        inventory = "web1 %s\nweb2 %s\n" % (HOST_VARS, HOST_VARS)
    elif shape == "mapping":
        inventory = {"all": {"hosts": {"web1": dict(v.split("=") for v in HOST_VARS.split()),
                                       "web2": dict(v.split("=") for v in HOST_VARS.split())}}}
    else:
        (pdd / "inventory" / "a").write_text("web1 %s\n" % HOST_VARS)
        (tmp_path / "b").write_text("web2 %s\n" % HOST_VARS)
        # A relative path is taken under PDD/inventory (the rule; ansible-runner 2.3.1
        # passes it as is, relative to the project dir).
        first = str(pdd / "inventory" / "a") if UNDER_DEBIAN else "a"
        inventory = [first, str(tmp_path / "b")]
    r = runner_module.run(private_data_dir=str(pdd), playbook="site.yml", inventory=inventory,
                          quiet=True)
    assert (r.status, r.rc) == ("successful", 0), r.stdout.read()
    assert ok_hosts(r) == ["web1", "web2"]
    if shape == "text":
        assert (pdd / "inventory" / "hosts").read_text() == inventory
    if shape == "mapping":
        assert json.loads((pdd / "inventory" / "hosts.json").read_text()) == inventory


def test_extravars_as_a_file_path(runner_module, tmp_path, arunner_only):
    # ansible-runner 2.3.1 writes the path itself into env/extravars (json.dumps of the string),
    # so the file is never read there; arunner passes -e @path.
    pdd = make_pdd(tmp_path, "hello")
    plays = [{"hosts": "all", "gather_facts": False,
              "tasks": [{"debug": {"msg": "colour={{ colour }}"}}]}]
    (tmp_path / "vars.yml").write_text("colour: blue\n")
    r = runner_module.run(private_data_dir=str(pdd), playbook=plays, quiet=True,
                          extravars=str(tmp_path / "vars.yml"))
    assert (r.status, r.rc) == ("successful", 0), r.stdout.read()
    assert "colour=blue" in r.stdout.read()


def test_envvars_and_settings_are_written_to_env_unless_suppressed(runner_module, tmp_path):
    pdd = make_pdd(tmp_path, "hello")
    r = runner_module.run(private_data_dir=str(pdd), playbook="site.yml", quiet=True,
                          envvars={"MY_VAR": "1"}, settings={"idle_timeout": 60})
    assert r.status == "successful"
    assert json.loads((pdd / "env" / "envvars").read_text()) == {"MY_VAR": "1"}
    assert json.loads((pdd / "env" / "settings").read_text()) == {"idle_timeout": 60}
    # Owner only (arunner 0600; ansible-runner 0400).
    assert (pdd / "env" / "envvars").stat().st_mode & 0o077 == 0
    other = make_pdd(tmp_path, "hello", sub="other")
    r = runner_module.run(private_data_dir=str(other), playbook="site.yml", quiet=True,
                          envvars={"MY_VAR": "1"}, suppress_env_files=True)
    assert r.status == "successful"
    assert not (other / "env").exists()
    env = [e for e in job_events(r.config.artifact_dir)]
    assert env, "the run still happened"


def test_no_private_data_dir_means_a_temporary_one(runner_module, tmp_path, arunner_only):
    # ansible-runner leaves its temporary dir behind; arunner removes it with the Runner.
    plays = [{"hosts": "localhost", "gather_facts": False,
              "tasks": [{"debug": {"msg": "temp"}}]}]
    r = runner_module.run(playbook=plays, quiet=True)
    assert (r.status, r.rc) == ("successful", 0)
    pdd = r.config.private_data_dir
    assert os.path.isdir(pdd) and "temp" in r.stdout.read()
    del r
    gc.collect()
    assert not os.path.exists(pdd)


def test_a_private_data_dir_that_does_not_exist_is_refused_as_ansible_runner_does(
        runner_module, tmp_path):
    with pytest.raises(Exception, match="does not exist"):
        runner_module.run(private_data_dir=str(tmp_path / "nope"), playbook="site.yml")

"""The bwrap sandbox and directory isolation through run()'s keywords (issue 18). The sandbox
test runs against Debian's ansible_runner too, through `bwrap-lib`: ansible-runner 2.3.1's bwrap
line binds no /lib, so on Debian 12 ansible-playbook cannot start in it without that symlink."""
import os

import pytest

from conftest import UNDER_DEBIAN, make_pdd

SANDBOXED = {"hidden file": "0", "hidden dir": "0", "read shown": "shown-data",
             "write shown": "wrote", "read read-only": "ro-data", "write read-only": "refused",
             "unlisted path": "absent", "home": "absent"}


def task_outputs(runner):
    return {e["event_data"]["task"]: e["event_data"]["res"]["stdout"]
            for e in runner.events if e["event"] == "runner_on_ok"}


@pytest.fixture
def sandbox(tmp_path):
    pdd = make_pdd(tmp_path, "sandbox")
    dirs = {name: tmp_path / name for name in ("shown", "ro", "unlisted", "staging")}
    for name, path in dirs.items():
        path.mkdir()
        if name != "staging":
            (path / "data").write_text(name + "-data")
    wrapper = tmp_path / "bwrap-lib"
    wrapper.write_text('#!/bin/sh\nexec bwrap --symlink usr/lib /lib "$@"\n')
    wrapper.chmod(0o755)
    dirs["pdd"] = pdd
    dirs["executable"] = str(wrapper) if UNDER_DEBIAN else "bwrap"
    return dirs


def test_the_sandbox_hides_shows_and_protects(runner_module, sandbox):
    s = sandbox
    r = runner_module.run(
        private_data_dir=str(s["pdd"]), playbook="site.yml", quiet=True,
        extravars={"shown": str(s["shown"]), "ro": str(s["ro"]), "unlisted": str(s["unlisted"])},
        process_isolation=True, process_isolation_executable=s["executable"],
        process_isolation_path=str(s["staging"]),
        process_isolation_hide_paths=["/etc/debian_version", "/usr/share/common-licenses"],
        process_isolation_show_paths=[str(s["shown"])],
        process_isolation_ro_paths=[str(s["ro"])])
    assert (r.status, r.rc) == ("successful", 0)
    assert task_outputs(r) == SANDBOXED
    assert not (s["ro"] / "written").exists()
    assert (s["shown"] / "written").read_text() == "new\n"
    assert os.listdir(s["staging"]) == []


def test_one_path_may_be_given_as_a_string(runner_module, sandbox, arunner_only):
    # ansible-runner would make a set of the string's characters ("/" among them).
    s = sandbox
    r = runner_module.run(
        private_data_dir=str(s["pdd"]), playbook="site.yml", quiet=True,
        extravars={"shown": str(s["shown"]), "ro": str(s["ro"]), "unlisted": str(s["unlisted"])},
        process_isolation=True, process_isolation_executable="bwrap",
        process_isolation_hide_paths="/etc/debian_version",
        process_isolation_show_paths=str(s["shown"]), process_isolation_ro_paths=str(s["ro"]))
    assert (r.status, r.rc) == ("successful", 0)
    outputs = task_outputs(r)
    assert outputs["hidden file"] == "0"
    assert outputs["hidden dir"] != "0"
    assert outputs["read shown"] == "shown-data"
    assert outputs["write read-only"] == "refused"


def test_directory_isolation_runs_from_a_copy_and_keeps_the_base(runner_module, tmp_path,
                                                                 arunner_only):
    # ansible-runner 2.3.1 runs from the base itself, copies nothing and deletes the base.
    pdd = make_pdd(tmp_path, "dir-isolation")
    base = tmp_path / "base"
    base.mkdir()
    (base / "keep.txt").write_text("mine")
    r = runner_module.run(private_data_dir=str(pdd), playbook="site.yml", quiet=True,
                          directory_isolation_base_path=str(base))
    assert (r.status, r.rc) == ("successful", 0)
    outputs = task_outputs(r)
    assert os.path.dirname(outputs["where"]) == str(base.resolve())
    assert os.path.basename(outputs["where"]).startswith("runner_di_")
    assert sorted(os.listdir(base)) == ["keep.txt"]
    assert sorted(os.listdir(pdd / "project")) == ["original.txt", "site.yml"]


def test_sandbox_settings_where_they_cannot_apply_are_refused(runner_module, pdd, arunner_only):
    with pytest.raises(runner_module.ConfigurationError,
                       match="process_isolation_hide_paths .* applies to the bwrap sandbox only"):
        runner_module.run(private_data_dir=str(pdd), playbook="site.yml", quiet=True,
                          process_isolation_hide_paths=["/etc"])
    with pytest.raises(runner_module.ConfigurationError,
                       match="directory_isolation_base_path .* cannot apply to a podman container"):
        runner_module.run(private_data_dir=str(pdd), playbook="site.yml", quiet=True,
                          process_isolation=True, container_image="localhost/arunner-ee",
                          directory_isolation_base_path=str(pdd))

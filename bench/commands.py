"""Times one call of run_command or a get_* helper in a fresh interpreter (the module's import
included, the interpreter's own start not), for bench/commands.sh; MODULE `bare` times the bare
tool through subprocess the same way. Usage: commands.py MODULE WHAT PDD INVENTORY; prints
seconds."""
import importlib
import sys
import time

start = time.monotonic()
what, pdd, inventory = sys.argv[2], sys.argv[3], sys.argv[4]
if sys.argv[1] == "bare":  # the bare tool through subprocess, timed the same way
    import subprocess
    commands = {"run_command": ["true"],
                "get_inventory": ["ansible-inventory", "--list", "-i", inventory],
                "get_plugin_docs": ["ansible-doc", "-j", "ansible.builtin.ping"]}
    subprocess.run(commands[what], check=True, capture_output=True)
    print("%.4f" % (time.monotonic() - start))
    raise SystemExit(0)
module = importlib.import_module(sys.argv[1])
if what == "run_command":
    out, err, rc = module.run_command(executable_cmd="true", runner_mode="subprocess",
                                      private_data_dir=pdd, quiet=True)
    assert rc == 0, (out, err)
elif what == "get_inventory":
    response, err = module.get_inventory(action="list", inventories=[inventory],
                                         response_format="json", private_data_dir=pdd,
                                         quiet=True)
    assert "web" in response, response
elif what == "get_plugin_docs":
    response, err = module.get_plugin_docs(plugin_names=["ansible.builtin.ping"],
                                           response_format="json", private_data_dir=pdd,
                                           quiet=True)
    assert "ansible.builtin.ping" in response
else:
    raise SystemExit("unknown: " + what)
print("%.4f" % (time.monotonic() - start))

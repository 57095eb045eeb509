"""Times one call of run_command or a get_* helper in a fresh interpreter (import included),
for bench/commands.sh. Usage: commands.py MODULE WHAT PDD INVENTORY; prints seconds."""
import importlib
import sys
import time

start = time.monotonic()
module = importlib.import_module(sys.argv[1])
what, pdd, inventory = sys.argv[2], sys.argv[3], sys.argv[4]
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

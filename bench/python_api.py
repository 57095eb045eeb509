"""Helper of bench/python_api.sh: one measured call of a runner module from Python.

  python_api.py process MODULE STREAM PDD WRITE   -> "<events> <seconds>": run(streamer='process')
      of a recorded worker stream with an event_handler that counts events and returns WRITE
      (true: job_events files are written; false: none)
  python_api.py run MODULE PDD IDENT               -> "<seconds>": run() of the play in PDD
Seconds are wall time around the call alone (the import and interpreter start left out)."""
import importlib
import sys
import time


def main():
    mode, module = sys.argv[1], importlib.import_module(sys.argv[2])
    if mode == "process":
        stream, pdd, write = sys.argv[3], sys.argv[4], sys.argv[5] == "true"
        count = [0]

        def handler(event):
            count[0] += 1
            return write

        with open(stream, "rb") as f:
            start = time.monotonic()
            p = module.run(streamer="process", _input=f, private_data_dir=pdd, ident="x",
                           quiet=True, event_handler=handler)
            seconds = time.monotonic() - start
        if p.status != "successful":
            sys.exit("process ended %s" % p.status)
        print(count[0], seconds)
    else:
        pdd, ident = sys.argv[3], sys.argv[4]
        start = time.monotonic()
        r = module.run(private_data_dir=pdd, playbook="site.yml", ident=ident, quiet=True)
        seconds = time.monotonic() - start
        if r.status != "successful":
            sys.exit("run ended %s" % r.status)
        print(seconds)


main()

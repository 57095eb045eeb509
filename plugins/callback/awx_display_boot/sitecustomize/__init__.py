# arunner's start-up hook for the ansible process of a job (docs/frames.md, "Where the secret
# is"). arunner puts this package's parent dir first on PYTHONPATH, so Python imports it as
# `sitecustomize` before any code of ansible's runs, and with it before any inventory script,
# vars plugin or module could: the first thing it does is make the process non-dumpable, so that
# nothing it starts later can open its descriptors or read its memory through /proc (or ptrace)
# without CAP_SYS_PTRACE; then it takes the run's frame secret from where it waits (an inherited
# pipe: arunner's in a local run, container_init's in a container), keeps it on the `sys` module
# for the callback plugin, and puts PYTHONPATH back as the job had it. Then it hands over to the
# sitecustomize it shadows (Debian has one), if any.
#
# It is a package (sitecustomize/__init__.py) two levels below the callback dir because ansible
# takes every other .py file there for a callback plugin, and skips __init__.py.
import importlib
import os
import sys


def _make_undumpable():
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except Exception:  # no ctypes in this Python: the secret is as safe as before
        pass


def _read_fd(fd):
    data = b''
    try:
        while len(data) <= 64:
            chunk = os.read(fd, 64)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    finally:
        try:
            os.close(fd)
        except OSError:
            pass
    return data.decode('ascii', 'replace')


def _take_secret():
    fd_text = os.environ.pop('ARUNNER_FRAME_FD', None)
    if fd_text is None:
        return None
    try:
        fd = int(fd_text)
    except ValueError:
        return ''
    return _read_fd(fd) if fd >= 3 else ''


def _restore_pythonpath(here):
    path = os.environ.get('PYTHONPATH')
    if path == here:
        del os.environ['PYTHONPATH']
    elif path is not None and path.startswith(here + os.pathsep):
        os.environ['PYTHONPATH'] = path[len(here) + 1:]
    while here in sys.path:
        sys.path.remove(here)


def _chain(here):
    # The sitecustomize this one shadows, found with our dir off the path.
    del sys.modules['sitecustomize']
    try:
        importlib.import_module('sitecustomize')
    except ImportError:
        pass


def _boot():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if 'ARUNNER_FRAME_FD' in os.environ:
        _make_undumpable()
        secret = _take_secret()
        if secret is not None and not hasattr(sys, '_arunner_frame_secret'):
            sys._arunner_frame_secret = secret
    _restore_pythonpath(here)
    _chain(here)


_boot()

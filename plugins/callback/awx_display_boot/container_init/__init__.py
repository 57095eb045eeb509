# arunner's wrapper for the command of a process-isolated job (docs/frames.md, "Where the secret
# is"; docs/containers.md, "The end of the job, from the stream"). The container runs
#
#     python3 -I -S /usr/share/arunner/callback/awx_display_boot/container_init/__init__.py COMMAND...
#
# (A package's __init__.py, as the hook's: ansible takes every other .py file up to two levels
# below the callback dir for a callback plugin.)
#
# It makes itself non-dumpable first, so that nothing the job starts can open its descriptors or
# read its memory through /proc (or ptrace) without CAP_SYS_PTRACE, which a container does not
# get by default. Then it takes the run's frame secret from the FIFO named by
# ARUNNER_FRAME_FIFO (arunner writes it once, to the first reader: this process, which runs
# before anything of the job), starts COMMAND with the secret waiting in a pipe at fd 3
# (ARUNNER_FRAME_FD=3, as a local run's child gets it; the start-up hook in sitecustomize/ reads
# it before any of ansible's code runs), and once COMMAND has ended writes its exit status as an
# exit frame and exits with it, as `sh -c '"$@"'` would.
#
# -I -S: no site, no PYTHONPATH, no user site: only the standard library runs here.
import os
import signal
import sys

_SECRET_LENGTH = 32
_HEX = frozenset('0123456789abcdef')


def _make_undumpable():
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except Exception:  # no ctypes in this Python: the secret is as safe as in the environment
        pass


def _take_secret():
    fifo = os.environ.pop('ARUNNER_FRAME_FIFO', None)
    if not fifo:
        return ''
    data = b''
    try:
        fd = os.open(fifo, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return ''
    try:
        while len(data) <= _SECRET_LENGTH:
            chunk = os.read(fd, 64)
            if not chunk:
                break
            data += chunk
    except OSError:
        return ''
    finally:
        os.close(fd)
    secret = data.decode('ascii', 'replace')
    if len(secret) != _SECRET_LENGTH or not set(secret) <= _HEX:
        return ''
    return secret


def _exec_command(argv, secret_read):
    # Python ignores these at start-up; the command gets them as sh would have left them.
    for name in ('SIGPIPE', 'SIGXFSZ'):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    if secret_read is not None:
        if secret_read != 3:
            os.dup2(secret_read, 3)
            os.close(secret_read)
        os.set_inheritable(3, True)
        os.environ['ARUNNER_FRAME_FD'] = '3'
    try:
        os.execvp(argv[0], argv)
    except OSError as e:
        # sh's words and code for a command it cannot find or run.
        code = 127 if isinstance(e, FileNotFoundError) else 126
        what = 'not found' if code == 127 else (e.strerror or 'cannot run')
        os.write(2, ('sh: 1: %s: %s\n' % (argv[0], what)).encode('utf-8', 'replace'))
        os._exit(code)


def _status_code(status):
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def main(argv):
    if not argv:
        os.write(2, b'container_init.py: no command\n')
        return 2
    # As sh: a SIGINT ends this process by default, with no traceback.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _make_undumpable()
    secret = _take_secret()
    secret_read = secret_write = None
    if secret:
        secret_read, secret_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        if secret_write is not None:
            os.close(secret_write)
        _exec_command(argv, secret_read)
    if secret_write is not None:
        os.close(secret_read)
        os.write(secret_write, secret.encode('ascii'))  # 32 bytes: never more than a pipe holds
        os.close(secret_write)
    while True:
        _, status = os.waitpid(pid, 0)
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            break
    code = _status_code(status)
    if secret:
        try:
            os.write(1, ('\x1b_arunner:%s:exit:%d\x1b\\' % (secret, code)).encode('ascii'))
        except OSError:  # nobody reads the output any more: the engine's wait tells the end
            pass
    return code


if __name__ == '__main__':
    os._exit(main(sys.argv[1:]))

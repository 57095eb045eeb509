# awx_display_boot/container_init/__init__.py, the init of a process-isolated job's command, run here as
# the container runs it (python3 -I -S container_init/__init__.py COMMAND...): it takes the secret from
# the FIFO, hands it to the command on fd 3 and nowhere else, and ends with an exit frame and the
# command's status.
import os
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
INIT = os.path.join(HERE, '..', '..', 'plugins', 'callback', 'awx_display_boot', 'container_init', '__init__.py')
SECRET = '0123456789abcdef0123456789abcdef'


def run_init(command, secret=SECRET, prefix=()):
    with tempfile.TemporaryDirectory() as tmp:
        fifo = os.path.join(tmp, 'frame_secret')
        os.mkfifo(fifo, 0o600)

        def feed():
            with open(fifo, 'w') as f:
                f.write(secret)

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'ARUNNER_FRAME_FIFO': fifo}
        done = subprocess.run(list(prefix) + [sys.executable, '-I', '-S', INIT] + command, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        writer.join(5)
        return done


class ContainerInit(unittest.TestCase):
    def test_the_command_gets_the_secret_on_fd_3_only_and_the_exit_frame_follows(self):
        done = run_init(['sh', '-c', 'cat <&3; echo " fd=$ARUNNER_FRAME_FD fifo=${ARUNNER_FRAME_FIFO-unset}";'
                         ' tr "\\0" "\\n" < /proc/$$/environ | grep -c "^ARUNNER_FRAME_FIFO" ; exit 3'])
        self.assertEqual(done.returncode, 3, done.stderr)
        self.assertEqual(done.stdout.decode(),
                         SECRET + ' fd=3 fifo=unset\n0\n\x1b_arunner:' + SECRET + ':exit:3\x1b\\')

    def test_a_command_a_signal_ends_gives_128_plus_the_signal(self):
        done = run_init(['sh', '-c', 'kill -TERM $$'])
        self.assertEqual(done.returncode, 143)
        self.assertTrue(done.stdout.decode().endswith(':exit:143\x1b\\'))

    def test_a_command_that_is_not_there_is_127_with_shs_words(self):
        done = run_init(['no-such-command-here'])
        self.assertEqual(done.returncode, 127)
        self.assertEqual(done.stderr.decode(), 'sh: 1: no-such-command-here: not found\n')
        self.assertTrue(done.stdout.decode().endswith(':exit:127\x1b\\'))

    def test_something_else_than_a_secret_in_the_fifo_gives_no_secret_and_no_frame(self):
        done = run_init(['sh', '-c', 'test -e /proc/$$/fd/3 && echo fd3; echo "[${ARUNNER_FRAME_FD-}]"'],
                        secret='not a secret')
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.decode(), '[]\n')

    def test_the_init_is_not_dumpable(self):
        # Its descriptors are closed to its child, which has no CAP_SYS_PTRACE (as in a
        # container); the child's own are open.
        no_ptrace = ('setpriv', '--inh-caps=-sys_ptrace', '--bounding-set=-sys_ptrace')
        done = run_init(['sh', '-c', 'readlink /proc/$$/fd/0 >/dev/null && echo own; '
                         'readlink /proc/$PPID/fd/0 >/dev/null 2>&1 || echo closed'], prefix=no_ptrace)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertTrue(done.stdout.decode().startswith('own\nclosed\n'), done.stdout)


if __name__ == '__main__':
    unittest.main()

# Tests of plugins/callback/awx_display_frames: where the frame secret comes from and that it is
# gone from the environment afterwards, and the frames around what ansible's Display prints
# (docs/frames.md):
#   ESC _ arunner:<secret>:<begin dict as JSON> ESC \ ...text... ESC _ arunner:<secret>: ESC \
# written to the stream in one write.
import json
import os
import re
import subprocess
import sys
import unittest
from unittest import mock

PLUGIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'plugins', 'callback')
SECRET = '0123456789abcdef0123456789abcdef'

# Taken when the helper is imported (setUpModule), as in ansible-playbook.
frames = None
display = None


def setUpModule():
    global frames, display
    os.environ['ARUNNER_FRAME_SECRET'] = SECRET
    os.environ['ANSIBLE_NOCOLOR'] = '1'
    sys.path.insert(0, PLUGIN_DIR)
    import awx_display_frames
    from ansible.utils.display import Display
    frames = awx_display_frames
    frames.install_display_hooks()
    display = Display()


def import_in_child(env, pass_fds=()):
    """Imports the helper in a fresh python3 with env added to its environment; returns what it
    saw: its opening frame, the ARUNNER_FRAME_* variables left in os.environ and in the
    environment of a process it starts, and which of pass_fds are still open."""
    code = '''
import json, os, subprocess, sys
sys.path.insert(0, sys.argv[1])
import awx_display_frames as frames
child_env = subprocess.run(['/usr/bin/env'], capture_output=True, text=True, check=True).stdout.splitlines()
def is_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False
print(json.dumps({
    'open': frames.FRAME_OPEN, 'close': frames.FRAME_CLOSE, 'end': frames.END_FRAME,
    'environ': sorted(k for k in os.environ if k.startswith('ARUNNER_FRAME')),
    'child_environ': sorted(line for line in child_env if line.startswith('ARUNNER_FRAME')),
    'open_fds': [fd for fd in map(int, sys.argv[2:]) if is_open(fd)],
}))
'''
    child_env = {k: v for k, v in os.environ.items() if not k.startswith('ARUNNER_FRAME')}
    child_env.update(env)
    result = subprocess.run([sys.executable, '-c', code, PLUGIN_DIR] + [str(fd) for fd in pass_fds],
                            env=child_env, pass_fds=pass_fds, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError('child failed: ' + result.stderr)
    return json.loads(result.stdout)


def secret_pipe(data):
    read_end, write_end = os.pipe()
    os.write(write_end, data)
    os.close(write_end)
    return read_end


class SecretTest(unittest.TestCase):

    def test_read_from_the_fd_named_by_ARUNNER_FRAME_FD_which_is_closed_and_unset(self):
        fd = secret_pipe(SECRET.encode())
        try:
            seen = import_in_child({'ARUNNER_FRAME_FD': str(fd)}, pass_fds=(fd,))
        finally:
            os.close(fd)
        self.assertEqual(seen['open'], '\x1b_arunner:' + SECRET + ':')
        self.assertEqual(seen['close'], '\x1b\\')
        self.assertEqual(seen['end'], '\x1b_arunner:' + SECRET + ':\x1b\\')
        self.assertEqual(seen['environ'], [])
        self.assertEqual(seen['child_environ'], [])
        self.assertEqual(seen['open_fds'], [])

    def test_read_from_ARUNNER_FRAME_SECRET_which_is_unset(self):
        seen = import_in_child({'ARUNNER_FRAME_SECRET': SECRET})
        self.assertEqual(seen['open'], '\x1b_arunner:' + SECRET + ':')
        self.assertEqual(seen['environ'], [])
        self.assertEqual(seen['child_environ'], [])

    def test_the_fd_wins_over_the_variable_and_both_are_unset(self):
        other = 'f' * 32
        fd = secret_pipe(other.encode())
        try:
            seen = import_in_child({'ARUNNER_FRAME_FD': str(fd), 'ARUNNER_FRAME_SECRET': SECRET}, pass_fds=(fd,))
        finally:
            os.close(fd)
        self.assertEqual(seen['open'], '\x1b_arunner:' + other + ':')
        self.assertEqual(seen['environ'], [])
        self.assertEqual(seen['child_environ'], [])

    def test_anything_but_32_lowercase_hex_digits_gives_frames_without_a_secret(self):
        for bad in ('0123456789ABCDEF0123456789ABCDEF', SECRET + '0', SECRET[:-1], 'x' * 32, ''):
            with self.subTest(secret=bad):
                seen = import_in_child({'ARUNNER_FRAME_SECRET': bad})
                self.assertEqual(seen['open'], '\x1b_arunner::')
                self.assertEqual(seen['environ'], [])

    def test_a_standard_stream_is_never_read_as_the_secret_fd(self):
        seen = import_in_child({'ARUNNER_FRAME_FD': '0'})
        self.assertEqual(seen['open'], '\x1b_arunner::')
        self.assertEqual(seen['environ'], [])

    def test_no_secret_at_all(self):
        seen = import_in_child({})
        self.assertEqual(seen['open'], '\x1b_arunner::')

    def test_taken_from_this_process_environment_when_imported(self):
        self.assertNotIn('ARUNNER_FRAME_SECRET', os.environ)
        self.assertEqual(frames.FRAME_OPEN, '\x1b_arunner:' + SECRET + ':')


class Recorder:
    """A stream that records each write and flush."""

    def __init__(self):
        self.calls = []

    def write(self, text):
        self.calls.append(('write', text))
        return len(text)

    def flush(self):
        self.calls.append(('flush',))

    def writes(self):
        return [call[1] for call in self.calls if call[0] == 'write']


FRAME_RE = re.compile('\x1b_arunner:' + SECRET + r':(\{[^\x1b]*\})\x1b\\(.*)\x1b_arunner:' + SECRET + r':\x1b\\\Z',
                      re.DOTALL)
UUID_RE = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z')


def parse_event(written):
    """(begin dict, text) of one framed event; fails unless written is exactly one."""
    match = FRAME_RE.match(written)
    if match is None:
        raise AssertionError('not one framed event: %r' % written[:300])
    return json.loads(match.group(1)), match.group(2)


class DisplayFramesTest(unittest.TestCase):

    def setUp(self):
        self.stdout = Recorder()
        self.stderr = Recorder()
        patcher = mock.patch.multiple(sys, stdout=self.stdout, stderr=self.stderr)
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_display_is_one_framed_event_in_one_write_then_a_flush(self):
        display.display('hello, world')
        self.assertEqual(len(self.stdout.writes()), 1)
        self.assertEqual(self.stdout.calls[-1], ('flush',))
        self.assertEqual(self.stderr.writes(), [])
        begin, text = parse_event(self.stdout.writes()[0])
        self.assertEqual(text, 'hello, world\n')
        self.assertEqual(list(begin), ['event', 'pid', 'uuid', 'created', 'event_data'])
        self.assertEqual(begin['event'], 'verbose')
        self.assertEqual(begin['pid'], os.getpid())
        self.assertRegex(begin['uuid'], UUID_RE)
        self.assertRegex(begin['created'], r'\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00\Z')
        self.assertEqual(begin['event_data'], {'uuid': begin['uuid']})

    def test_each_display_is_its_own_event(self):
        display.display('one')
        display.display('two')
        writes = self.stdout.writes()
        self.assertEqual(len(writes), 2)
        first, second = parse_event(writes[0]), parse_event(writes[1])
        self.assertEqual((first[1], second[1]), ('one\n', 'two\n'))
        self.assertNotEqual(first[0]['uuid'], second[0]['uuid'])

    def test_text_with_escapes_and_non_ascii_stays_as_printed(self):
        display.display('caf\u00e9 \x1b[0m tab\t')
        begin, text = parse_event(self.stdout.writes()[0])
        self.assertEqual(text, 'caf\u00e9 \x1b[0m tab\t\n')

    def test_a_warning_goes_to_stderr_as_a_warning_event(self):
        display.warning('the frames test warns, once')
        self.assertEqual(self.stdout.writes(), [])
        self.assertEqual(len(self.stderr.writes()), 1)
        begin, text = parse_event(self.stderr.writes()[0])
        self.assertEqual(begin['event'], 'warning')
        self.assertEqual(begin['event_data'], {'warning': True, 'uuid': begin['uuid']})
        self.assertIn('the frames test warns, once', text)

    def test_verbose_output_carries_its_verbosity_and_host(self):
        saved = display.verbosity
        display.verbosity = 3
        try:
            display.vvv('details', host='web1')
        finally:
            display.verbosity = saved
        begin, text = parse_event(self.stdout.writes()[0])
        self.assertEqual(begin['event'], 'verbose')
        self.assertEqual(begin['verbosity'], 3)
        self.assertEqual(begin['event_data'], {'verbose': True, 'remote_addr': 'web1', 'uuid': begin['uuid']})
        self.assertIn('details', text)

    def test_large_text_is_written_as_it_comes_in_order(self):
        big = 'x' * 200000
        display.display(big)
        writes = self.stdout.writes()
        self.assertGreater(len(writes), 1)
        self.assertTrue(writes[0].startswith('\x1b_arunner:' + SECRET + ':{'))
        begin, text = parse_event(''.join(writes))
        self.assertEqual(text, big + '\n')
        self.assertEqual(self.stdout.calls[-1], ('flush',))

    def test_log_only_output_is_not_framed(self):
        display.display('to the log only', log_only=True)
        self.assertEqual(self.stdout.calls, [])

    def test_text_printed_inside_an_open_event_belongs_to_it(self):
        state = frames.install_display_hooks()
        local = state.local()
        local.update({'event': 'runner_on_ok', 'uuid': 'e0c8cbcf-7b8e-47c8-91ac-2149098a33be', 'host': 'web1'})
        try:
            out = state.open_event(False)
            display.display('ok: [web1]')
            display.display('second line')
            state.close_event(out, False)
        finally:
            local.clear()
        self.assertIs(sys.stdout, self.stdout)
        writes = self.stdout.writes()
        self.assertEqual(len(writes), 1)
        begin, text = parse_event(writes[0])
        self.assertEqual(text, 'ok: [web1]\nsecond line\n')
        self.assertEqual(begin['event'], 'runner_on_ok')
        self.assertEqual(begin['uuid'], 'e0c8cbcf-7b8e-47c8-91ac-2149098a33be')
        self.assertEqual(begin['event_data'], {'uuid': 'e0c8cbcf-7b8e-47c8-91ac-2149098a33be', 'host': 'web1'})


if __name__ == '__main__':
    unittest.main()

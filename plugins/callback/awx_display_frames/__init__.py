# How arunner's callback plugin (../awx_display.py) puts job events in-band: the frame secret,
# the frames, the begin dict of an event, the text collected between its frames, and the hooks
# on ansible's Display that frame text printed outside any callback (warnings, -v output...).
# docs/frames.md describes the frames; the header of ../awx_display.py how they are written.
#
# All the code is in __init__.py: ansible takes every other .py file in a callback plugin dir,
# or one or two directories below it, for a callback plugin (and warns that it is not one), but
# skips __init__.py.
import datetime
import inspect
import multiprocessing
import os
import re
import sys
import threading

from ansible.utils.display import Display

# a sibling package: the plugin puts its dir on sys.path while it imports this one
from awx_display_json import encode_event


# ---------------------------------------------------------------------------------------
# Settings, read once: the environment of an ansible process does not change under it.

def _env_true(name):
    return os.getenv(name, 'False').lower() == 'true'


OMIT_EVENT_DATA = _env_true('RUNNER_OMIT_EVENTS')
ONLY_FAILED_EVENT_DATA = _env_true('RUNNER_ONLY_FAILED_EVENTS')
# Events that keep their event_data under RUNNER_ONLY_FAILED_EVENTS. ansible-runner names
# `runner_on_item_failed`, which no callback emits; arunner keeps failed items on purpose.
FAILED_EVENTS = frozenset((
    'runner_on_failed', 'runner_on_async_failed', 'runner_item_on_failed', 'runner_on_item_failed',
))

try:
    MAX_EVENT_RES = int(os.getenv('MAX_EVENT_RES', '700000'))
except ValueError:
    MAX_EVENT_RES = 700000


def _job_ids():
    # (key, env var) pairs, in the order the begin dict carries them.
    ids = []
    for key, var in (('job_id', 'JOB_ID'), ('ad_hoc_command_id', 'AD_HOC_COMMAND_ID'),
                     ('project_update_id', 'PROJECT_UPDATE_ID')):
        value = os.getenv(var, '')
        if value:
            try:
                ids.append((key, int(value)))
            except ValueError:
                pass
    return tuple(ids)


JOB_IDS = _job_ids()


# Display-originated events are named after the first of these flags that is set.
DISPLAY_EVENT_FLAGS = ('debug', 'verbose', 'deprecated', 'warning', 'system_warning', 'error')


# ---------------------------------------------------------------------------------------
# The frame secret and the frames.

_SECRET_RE = re.compile(r'[0-9a-f]{32}')


def _read_secret_fd(text):
    try:
        fd = int(text)
    except ValueError:
        return ''
    if fd < 3:  # never a standard stream
        return ''
    data = b''
    try:
        while len(data) <= 64:
            chunk = os.read(fd, 64)
            if not chunk:
                break
            data += chunk
    except OSError:
        return ''
    finally:
        try:
            os.close(fd)
        except OSError:
            pass
    return data.decode('ascii', 'replace')


def _frame_secret():
    """The run's frame secret, taken once per process (kept on Display, which survives this
    module being imported again) and removed from where anything started later could find it."""
    secret = getattr(Display, '_arunner_frame_secret', None)
    if secret is not None:
        return secret
    # Taken at start-up by arunner's hook (../awx_display_boot), before any of ansible's code
    # ran; read here only where the hook did not run (python -I, a PYTHONPATH it could not use).
    booted = getattr(sys, '_arunner_frame_secret', None)
    fd_text = os.environ.pop('ARUNNER_FRAME_FD', None)
    # arunner never sets this (child_environment removes it from a job's environment); the
    # plugin's own tests hand it the secret this way.
    env_secret = os.environ.pop('ARUNNER_FRAME_SECRET', None)
    if booted is not None:
        secret = booted
    else:
        secret = _read_secret_fd(fd_text) if fd_text is not None else (env_secret or '')
    if not _SECRET_RE.fullmatch(secret):
        secret = ''  # frames then carry no secret, and arunner takes them as plain output
    Display._arunner_frame_secret = secret
    return secret


# ensure_ascii JSON escapes every control character, so ESC never occurs inside a frame.
FRAME_OPEN = '\x1b_arunner:' + _frame_secret() + ':'
FRAME_CLOSE = '\x1b\\'
END_FRAME = FRAME_OPEN + FRAME_CLOSE


_UTC = datetime.timezone.utc
_now = datetime.datetime.now


def utc_now():
    return _now(_UTC)


# ---------------------------------------------------------------------------------------
# Per-process values, renewed in a forked child (ansible's workers display through us too).

class _Process:
    pid = os.getpid()
    # Random bytes for uuid4s, read from os.urandom 4 KiB at a time instead of 16 bytes per
    # event; a child must not reuse its parent's pool.
    pool = b''
    pos = 0


_VARIANT = {c: '89ab'[int(c, 16) & 3] for c in '0123456789abcdef'}


def new_uuid():
    """str(uuid.uuid4()), without the UUID object."""
    pos = _Process.pos
    if pos >= len(_Process.pool):
        _Process.pool = os.urandom(4096)
        pos = 0
    _Process.pos = pos + 16
    h = _Process.pool[pos:pos + 16].hex()
    # version 4 in the 13th digit, the RFC 4122 variant in the 17th
    return '%s-%s-4%s-%s%s-%s' % (h[:8], h[8:12], h[13:16], _VARIANT[h[16]], h[17:20], h[20:])


# ---------------------------------------------------------------------------------------
# Results too large to keep.

try:
    from ansible.utils.unsafe_proxy import AnsibleUnsafeText as _UnsafeText
except ImportError:  # an ansible-core without it (the plugin runs in any EE's ansible)
    _UnsafeText = str
# Strings whose repr() is at least as long as themselves (plus quotes).
_PLAIN_STRINGS = (str, _UnsafeText)


def _surely_longer(res):
    """True when len(str(res)) > MAX_EVENT_RES can be told without building str(res): a plain
    dict whose plain string values alone are longer (a 27 MB result need not be repr'd just
    to be dropped)."""
    if type(res) is not dict:
        return False
    total = 0
    for value in res.values():
        if type(value) in _PLAIN_STRINGS:
            total += len(value)
    return total > MAX_EVENT_RES


# ---------------------------------------------------------------------------------------
# Event context: process-wide keys (playbook, play, current task) plus per-thread keys
# (the event being emitted, Display flags). An event's data is the process-wide keys
# overlaid with this thread's keys, in that order, which gives ansible-runner's key order.

class EventState:

    def __init__(self):
        self.shared = {}
        self._tls = threading.local()
        # The lock must hold across fork: a worker process frames its display calls too, and
        # its frames must not land inside an event the main process has open.
        try:
            self.lock = multiprocessing.RLock()
            self.lock_is_shared = True
        except Exception:  # no usable semaphores (e.g. no /dev/shm): workers stay unframed
            self.lock = threading.RLock()
            self.lock_is_shared = False
        # The stream the currently open event writes its frames to (guarded by the lock).
        self.open_stream = None

    def local(self):
        try:
            return self._tls.ctx
        except AttributeError:
            ctx = self._tls.ctx = {}
            return ctx

    def begin_dict(self):
        data = dict(self.shared)
        data.update(self.local())
        event = data.pop('event', None)
        if not event:
            event = 'verbose'
            for flag in DISPLAY_EVENT_FLAGS:
                if data.get(flag):
                    event = flag
                    break
        begin = {'event': event}
        for key, value in JOB_IDS:
            begin[key] = value
        begin['pid'] = data.get('pid', _Process.pid)
        event_uuid = data.get('uuid') or new_uuid()
        begin['uuid'] = event_uuid
        begin['created'] = data.get('created') or utc_now().isoformat()
        parent = data.get('parent_uuid')
        if not parent:
            for key in ('task_uuid', 'play_uuid', 'playbook_uuid'):
                candidate = data.get(key)
                if candidate and candidate != event_uuid:
                    parent = candidate
                    break
        if parent:
            begin['parent_uuid'] = parent
        if 'verbosity' in data:
            begin['verbosity'] = data.pop('verbosity')
        if OMIT_EVENT_DATA or (ONLY_FAILED_EVENT_DATA and event not in FAILED_EVENTS):
            data = {}
        elif 'res' in data and event != 'playbook_on_stats':
            try:
                res = data['res']
                too_big = _surely_longer(res) or len(str(res)) > MAX_EVENT_RES
            except Exception:
                too_big = False
            if too_big:
                data['res'] = {}
        begin['event_data'] = data
        return begin

    def open_event(self, to_stderr):
        """Starts the event the thread's context describes on sys.stdout or sys.stderr; the
        event's text goes to the returned _EventOutput until close_event()."""
        stream = sys.stderr if to_stderr else sys.stdout
        out = _EventOutput(stream, FRAME_OPEN + encode_event(self.begin_dict()) + FRAME_CLOSE)
        if to_stderr:
            sys.stderr = out
        else:
            sys.stdout = out
        out.previous_open, self.open_stream = self.open_stream, out
        return out

    def close_event(self, out, to_stderr):
        self.open_stream = out.previous_open
        if to_stderr:
            if sys.stderr is out:
                sys.stderr = out.stream
        elif sys.stdout is out:
            sys.stdout = out.stream
        out.close()


# Text an event collects before it is written out; more is written as it comes.
_COLLECT_LIMIT = 1 << 16


class _EventOutput:
    """Stands in for sys.stdout (or sys.stderr) while an event is open, so that the begin frame,
    the text of the event and the end frame reach the stream in one write (one pty write and
    one read by arunner per event instead of three). Any use of the stream other than write()
    and flush() (fileno, buffer, ...) writes out what was collected and makes later writes go
    straight through, so bytes always reach the stream in the order they were written."""

    __slots__ = ('stream', 'previous_open', '_parts', '_size', '_direct')

    def __init__(self, stream, begin):
        self.stream = stream
        self.previous_open = None
        self._parts = [begin]
        self._size = len(begin)
        self._direct = False

    def write(self, text):
        if self._direct:
            return self.stream.write(text)
        self._parts.append(text)
        self._size += len(text)
        if self._size >= _COLLECT_LIMIT:
            self._write_out()
        return len(text)

    def _write_out(self):
        parts, self._parts, size, self._size = self._parts, [], self._size, 0
        if not parts:
            return
        stream = self.stream
        if size < _COLLECT_LIMIT:
            stream.write(''.join(parts))
        else:  # large text is written as it is, not copied into one string
            for part in parts:
                stream.write(part)

    def flush(self):
        self._write_out()
        self.stream.flush()

    def close(self):
        """Writes the end frame after the rest and flushes."""
        if self._direct:
            self.stream.write(END_FRAME)
        else:
            self._parts.append(END_FRAME)
            self._size += len(END_FRAME)
            self._write_out()
        self.stream.flush()

    def __getattr__(self, name):
        self._write_out()
        self._direct = True
        return getattr(self.stream, name)


def _after_fork_in_child():
    _Process.pid = os.getpid()
    _Process.pool = b''
    _Process.pos = 0
    # An event open in another thread of the parent is not the child's to write.
    for name in ('stdout', 'stderr'):
        stream = getattr(sys, name)
        while isinstance(stream, _EventOutput):
            stream = stream.stream
        setattr(sys, name, stream)
    state = getattr(Display, '_arunner_event_state', None)
    if state is not None:
        state.open_stream = None


os.register_at_fork(after_in_child=_after_fork_in_child)


def _flush_quietly(stream):
    try:
        stream.flush()
    except Exception:
        pass


def install_display_hooks():
    """Patch Display once per process, however many times the plugin gets imported; returns
    the process's EventState."""
    state = getattr(Display, '_arunner_event_state', None)
    if state is not None:
        return state
    state = EventState()

    def framed_display(original):
        def display(self, *args, **kwargs):
            # Display.display(msg, color=None, stderr=False, screen_only=False, log_only=False, newline=True)
            log_only = kwargs['log_only'] if 'log_only' in kwargs else (args[4] if len(args) > 4 else False)
            if log_only:
                return original(self, *args, **kwargs)
            to_stderr = kwargs['stderr'] if 'stderr' in kwargs else (args[2] if len(args) > 2 else False)
            local = state.local()
            if local.get('uuid'):
                # Inside an event this thread has open: the text belongs to it. If it goes to
                # the other stream, keep the order the two streams reach a shared terminal in.
                open_stream = state.open_stream
                target = sys.stderr if to_stderr else sys.stdout
                if open_stream is None or target is open_stream:
                    return original(self, *args, **kwargs)
                _flush_quietly(open_stream)
                try:
                    return original(self, *args, **kwargs)
                finally:
                    _flush_quietly(target)
            if getattr(self, '_final_q', None) is not None and not state.lock_is_shared:
                return original(self, *args, **kwargs)
            with state.lock:
                if to_stderr:
                    _flush_quietly(sys.stdout)
                local['uuid'] = new_uuid()
                try:
                    out = state.open_event(to_stderr)
                    try:
                        return original(self, *args, **kwargs)
                    finally:
                        state.close_event(out, to_stderr)
                finally:
                    local.pop('uuid', None)
        display._arunner_original = original
        return display

    def flagged(original, flag):
        def method(*args, **kwargs):
            local = state.local()
            local[flag] = True
            try:
                return original(*args, **kwargs)
            finally:
                local.pop(flag, None)
        method.__name__ = getattr(original, '__name__', flag)
        method.__doc__ = getattr(original, '__doc__', None)
        return method

    def with_verbosity(original):
        def verbose(self, *args, **kwargs):
            # Display.verbose(msg, host=None, caplevel=2)
            host = kwargs['host'] if 'host' in kwargs else (args[1] if len(args) > 1 else None)
            caplevel = kwargs['caplevel'] if 'caplevel' in kwargs else (args[2] if len(args) > 2 else 2)
            local = state.local()
            added = {'verbose': True, 'verbosity': caplevel + 1}
            if host is not None:
                added['remote_addr'] = host
            local.update(added)
            try:
                return original(self, *args, **kwargs)
            finally:
                for key in added:
                    local.pop(key, None)
        return verbose

    unflagged = ('display', 'v', 'vv', 'vvv', 'vvvv', 'vvvvv', 'vvvvvv', 'verbose')
    for name in dir(Display):
        if name.startswith('_') or 'cow' in name or 'prompt' in name or name in unflagged:
            continue
        raw = inspect.getattr_static(Display, name, None)
        if isinstance(raw, staticmethod):
            setattr(Display, name, staticmethod(flagged(raw.__func__, name)))
        elif isinstance(raw, classmethod):
            setattr(Display, name, classmethod(flagged(raw.__func__, name)))
        elif callable(raw):
            setattr(Display, name, flagged(raw, name))
    Display.verbose = with_verbosity(Display.verbose)
    Display.display = framed_display(Display.display)
    Display._arunner_event_state = state
    return state

# arunner's stdout callback plugin for Ansible.
#
# It keeps the name of ansible-runner's plugin (awx_display) so that
# ANSIBLE_STDOUT_CALLBACK=awx_display selects it, and it subclasses the stdout callback the
# user configured (ORIGINAL_STDOUT_CALLBACK, else `minimal` for ad hoc commands, else
# `default`), so the human-readable text is exactly what that callback prints.
#
# Around that text it reports every job event ansible-runner reports, with the same event
# names, key order and event_data keys. The event travels in-band, in the output stream
# itself, as a pair of APC strings (ESC _ ... ESC \) that terminals do not display:
#
#   ESC _ arunner:<secret>:<begin dict as Python JSON, pure ASCII> ESC \
#   ...whatever ansible prints for the event...
#   ESC _ arunner:<secret>: ESC \
#
# <secret> is the run's frame secret (docs/frames.md): arunner hands it over on an inherited fd
# named by ARUNNER_FRAME_FD (or, in a container, in ARUNNER_FRAME_SECRET). It is read once when
# this file is first imported, before ansible starts any worker or module; the fd is closed and
# both variables are removed from os.environ, so modules, connections and scripts never inherit
# them. arunner takes bytes that look like a frame without the secret as plain output.
#
# The three pieces are written under one process-wide lock to the stream the text goes to,
# normally in a single write (see _EventOutput), and the stream is flushed after the closing
# frame. Nothing is written to disk.
#
# This code runs once per job event inside ansible-playbook, so it is kept cheap: no uuid.UUID
# objects, no getpid() per event, one cached JSON encoder, one write per event.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = '''
    name: awx_display
    type: stdout
    short_description: job events for arunner, in-band, around the usual screen output
    description:
        - Prints what the wrapped stdout callback prints (ORIGINAL_STDOUT_CALLBACK, else
          C(minimal) for ad hoc commands, else C(default)).
        - Frames the output of every callback and display call as an arunner job event.
    extends_documentation_fragment:
      - default_callback
      - result_format_callback
    requirements:
      - set as the stdout callback
'''

import collections
import datetime
import inspect
import json
import multiprocessing
import os
import re
import sys
import threading

from ansible import constants as C
from ansible.plugins.loader import callback_loader
from ansible.utils.display import Display

try:
    from collections.abc import Mapping
except ImportError:  # pragma: no cover - python 2
    from collections import Mapping


# ---------------------------------------------------------------------------------------
# Settings, read once: the environment of an ansible process does not change under it.

IS_ADHOC = bool(os.getenv('AD_HOC_COMMAND_ID'))


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

CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"

# Display-originated events are named after the first of these flags that is set.
DISPLAY_EVENT_FLAGS = ('debug', 'verbose', 'deprecated', 'warning', 'system_warning', 'error')

# The context keys that describe a task; they are cleared together.
TASK_KEYS = ('task', 'task_path', 'task_uuid', 'task_action', 'task_args', 'resolved_action',
             'role', 'resolved_role')
PLAY_KEYS = ('play', 'play_uuid', 'play_pattern')

FACT_GATHERING_ACTIONS = frozenset((
    'setup', 'gather_facts',
    'ansible.builtin.setup', 'ansible.builtin.gather_facts',
    'ansible.legacy.setup', 'ansible.legacy.gather_facts',
))

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
    file being imported again) and removed from where anything started later could find it."""
    secret = getattr(Display, '_arunner_frame_secret', None)
    if secret is not None:
        return secret
    fd_text = os.environ.pop('ARUNNER_FRAME_FD', None)
    env_secret = os.environ.pop('ARUNNER_FRAME_SECRET', None)
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

class _Process(object):
    pid = os.getpid()
    # Random bytes for uuid4s, read from os.urandom 4 KiB at a time instead of 16 bytes per
    # event; a child must not reuse its parent's pool.
    pool = b''
    pos = 0


_VARIANT = dict((c, '89ab'[int(c, 16) & 3]) for c in '0123456789abcdef')


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
# JSON: never fail on what ansible puts in results.

class _EventEncoder(json.JSONEncoder):
    """Python JSON with ansible's objects turned into plain values.

    Unsafe text is a str subclass and needs nothing; vaulted values keep the form ansible-runner
    gives them ({"__ansible_vault": ciphertext}); everything unknown becomes its str().
    """

    def default(self, o):
        if getattr(o, 'yaml_tag', None) == '!vault':
            ciphertext = getattr(o, '_ciphertext', None)
            if isinstance(ciphertext, bytes):
                ciphertext = ciphertext.decode('utf-8', 'replace')
            return {'__ansible_vault': ciphertext if ciphertext is not None else str(o)}
        if isinstance(o, (datetime.datetime, datetime.date, datetime.time)):
            return o.isoformat()
        if isinstance(o, (set, frozenset)):
            return list(o)
        if isinstance(o, (bytes, bytearray)):
            return bytes(o).decode('utf-8', 'replace')
        if isinstance(o, Mapping):
            return dict(o)
        return str(o)


# allow_nan=False: NaN and Infinity are not JSON, so they take the slow path below. The
# payload is parsed again by arunner, so it needs no spaces; a cycle ends in RecursionError
# (no check_circular) and takes the slow path too.
_ENCODER = _EventEncoder(allow_nan=False, check_circular=False, separators=(',', ':'))

try:  # the C encoder, made once instead of once per event as JSONEncoder.encode does
    from json.encoder import c_make_encoder as _c_make_encoder, encode_basestring_ascii as _ascii
    _C_ENCODE = _c_make_encoder(None, _ENCODER.default, _ascii, None, ':', ',', False, False, False)
except Exception:  # pragma: no cover - no _json accelerator
    _C_ENCODE = None


def _plain(value, active):
    """A copy of value that json can always encode: str keys, no cycles, finite floats."""
    if isinstance(value, str) or value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float('inf'), float('-inf')) else None
    ident = id(value)
    if ident in active:
        return '<cycle>'
    if isinstance(value, Mapping) or isinstance(value, (list, tuple, set, frozenset)):
        active.add(ident)
        try:
            if isinstance(value, Mapping):
                out = {}
                for key, item in value.items():
                    if not isinstance(key, str):
                        key = _plain(key, active) if isinstance(key, (bool, int, float)) or key is None else str(key)
                        key = key if isinstance(key, str) else json.dumps(key)
                    out[key] = _plain(item, active)
                return out
            return [_plain(item, active) for item in value]
        finally:
            active.discard(ident)
    try:
        converted = _ENCODER.default(value)
    except Exception:
        converted = repr(value)
    if converted is value:
        return str(value)
    return _plain(converted, active)


# A lone UTF-16 surrogate escape (which Python emits for undecodable bytes) is valid JSON
# syntax but not valid Unicode, and strict parsers refuse it. Pairs and escaped backslashes
# are matched first so that only lone surrogates get replaced.
_SURROGATE_RE = re.compile(r'\\\\|\\ud[89ab][0-9a-f]{2}\\ud[c-f][0-9a-f]{2}|\\ud[89a-f][0-9a-f]{2}')


def _fix_surrogate(match):
    text = match.group(0)
    return text if len(text) != 6 else '\\ufffd'


def encode_event(data):
    try:
        text = ''.join(_C_ENCODE(data, 0)) if _C_ENCODE is not None else _ENCODER.encode(data)
    except Exception:
        try:
            text = _ENCODER.encode(_plain(data, set()))
        except Exception:  # e.g. nesting too deep even for _plain: keep the event, drop its data
            text = _ENCODER.encode(_plain(dict(data, event_data={}), set()))
    if '\\ud' in text:
        text = _SURROGATE_RE.sub(_fix_surrogate, text)
    return text


try:
    from ansible.utils.unsafe_proxy import AnsibleUnsafeText as _UnsafeText
except ImportError:  # pragma: no cover
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

class EventState(object):

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


class _EventOutput(object):
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


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _flush_quietly(stream):
    try:
        stream.flush()
    except Exception:
        pass


def _install_display_hooks():
    """Patch Display once per process, however many times this file gets imported."""
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



# ---------------------------------------------------------------------------------------
# The stdout callback.

def _wrapped_callback():
    name = os.getenv('ORIGINAL_STDOUT_CALLBACK') or ('minimal' if IS_ADHOC else 'default')
    plugin = None
    if name.rsplit('.', 1)[-1] != 'awx_display':
        plugin = callback_loader.get(name)
    if plugin is None:
        plugin = callback_loader.get('default')
    return plugin


# Load the wrapped callback before patching Display, so that what ansible prints while
# loading it stays plain text, as it does under ansible-runner.
_WRAPPED = _wrapped_callback()
_WrappedCallback = _WRAPPED.__class__

STATE = _install_display_hooks()


def _task_context(task):
    """The context keys that describe a task, in ansible-runner's order."""
    action = task.action  # a descriptor: read once
    resolved = getattr(task, 'resolved_action', action)
    ctx = {
        'task': task.name or action,
        'task_uuid': str(task._uuid),
        'task_action': action,
        'resolved_action': resolved,
        'task_args': '',
    }
    try:
        ctx['task_path'] = task.get_path()
    except AttributeError:
        pass
    if C.DISPLAY_ARGS_TO_STDOUT:
        if task.no_log:
            ctx['task_args'] = CENSORED
        else:
            ctx['task_args'] = ', '.join('%s=%s' % pair for pair in task.args.items())
    role = getattr(task, '_role', None)
    if role:
        role_name = role._role_name
        if hasattr(role, 'get_name'):
            full_name = role.get_name()
            if full_name != role_name:
                ctx['resolved_role'] = full_name
    else:
        role_name = getattr(task, 'role_name', '')
    if role_name:
        ctx['role'] = role_name
    return ctx


def _play_pattern(play):
    hosts = getattr(play, 'hosts', '')
    if isinstance(hosts, list):
        return ','.join(hosts)
    return hosts


def _loop_kind(task):
    if hasattr(task, 'loop_with'):
        return task.loop_with
    return getattr(task, 'loop', None)


def _censor(res):
    """Apply no_log to an event's res; a no_log item inside results is replaced in place,
    so the wrapped callback prints the censored form too."""
    if not res:
        return res
    if res.get('_ansible_no_log', False):
        return {'censored': CENSORED}
    items = res.get('results')
    if items:
        items = list(items)
        for index, item in enumerate(items):
            if isinstance(item, dict) and item.get('_ansible_no_log', False):
                items[index] = {'censored': CENSORED}
        res['results'] = items
    return res


class CallbackModule(_WrappedCallback):

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'awx_display'

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._arunner_started = {}            # host name -> when its current task started
        self._arunner_seen_tasks = set()
        self._arunner_task_repeats = collections.defaultdict(lambda: 1)
        self._arunner_seen_plays = set()
        self._arunner_play_repeats = collections.defaultdict(lambda: 1)
        self._arunner_extra_options = {}

    # -- options: ours, plus whatever the wrapped callback declares that we do not -------

    def set_options(self, task_keys=None, var_options=None, direct=None):
        try:
            self._arunner_extra_options = C.config.get_plugin_options(
                'callback', _WRAPPED._load_name, keys=task_keys, variables=var_options, direct=direct) or {}
        except Exception:
            self._arunner_extra_options = {}
        super(CallbackModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        merged = dict(getattr(self, '_plugin_options', None) or {})
        merged.update(self._arunner_extra_options)
        self._plugin_options = merged

    def get_option(self, k):
        try:
            return super(CallbackModule, self).get_option(k)
        except KeyError:
            if k in self._arunner_extra_options:
                return self._arunner_extra_options[k]
            raise

    # -- event plumbing -----------------------------------------------------------------

    def _emit(self, event, fields, body, *args, **kwargs):
        """Run body (the wrapped callback's method) as the event `event`.

        fields is the event's own data, in order; a `task` entry is expanded into the task
        keys of that task (for this event only), and `uuid` is added when missing."""
        if 'uuid' not in fields:
            fields['uuid'] = new_uuid()
        task = fields.pop('task', None)
        if fields.get('res'):
            fields['res'] = _censor(fields['res'])
        state = STATE
        with state.lock:
            local = state.local()
            # Usually nothing else is in this thread's context: then it is simply emptied
            # afterwards instead of key by key.
            was_empty = not local
            local['event'] = event
            local.update(fields)
            task_ctx = None
            if task:
                if not was_empty:
                    for key in TASK_KEYS:
                        local.pop(key, None)
                task_ctx = _task_context(task)
                local.update(task_ctx)
            try:
                out = state.open_event(False)
                try:
                    if body is not None:
                        return body(*args, **kwargs)
                finally:
                    state.close_event(out, False)
            finally:
                if was_empty:
                    local.clear()
                else:
                    if task_ctx is not None:
                        for key in TASK_KEYS:
                            local.pop(key, None)
                    local.pop('event', None)
                    for key in fields:
                        local.pop(key, None)

    def _parent(self, name):
        return getattr(super(CallbackModule, self), name, None)

    @staticmethod
    def _set_shared(**values):
        STATE.shared.update(values)

    @staticmethod
    def _clear_shared(keys):
        for key in keys:
            STATE.shared.pop(key, None)

    def _enter_task(self, task):
        self._clear_shared(TASK_KEYS)
        STATE.shared.update(_task_context(task))

    def _enter_play(self, play, name, pattern):
        self._set_shared(play=name, play_uuid=str(play._uuid), play_pattern=pattern)
        self._clear_shared(TASK_KEYS)

    def _leave_play(self):
        self._clear_shared(PLAY_KEYS)
        self._clear_shared(TASK_KEYS)

    def _timing(self, result):
        started = self._arunner_started.get(result._host.get_name())
        if not started:
            return None, None, None
        now = utc_now()
        return started, now, (now - started).total_seconds()

    @staticmethod
    def _numbered(seen, repeats, plain_uuid):
        # free strategy and serial runs reuse a task's (or play's) uuid; number the repeats
        if plain_uuid in seen:
            repeats[plain_uuid] += 1
            numbered = '%s_%d' % (plain_uuid, repeats[plain_uuid])
        else:
            numbered = plain_uuid
        seen.add(numbered)
        return numbered

    # -- playbook-level callbacks ---------------------------------------------------------

    def v2_playbook_on_start(self, playbook):
        playbook_uuid = new_uuid()
        self._set_shared(playbook=getattr(playbook, '_file_name', '???'), playbook_uuid=playbook_uuid)
        self._leave_play()
        self._emit('playbook_on_start', {'uuid': playbook_uuid},
                   self._parent('v2_playbook_on_start'), playbook)

    def v2_playbook_on_vars_prompt(self, varname, private=True, prompt=None, encrypt=None, confirm=False,
                                   salt_size=None, salt=None, default=None, unsafe=None):
        fields = {'varname': varname, 'private': private, 'prompt': prompt, 'encrypt': encrypt,
                  'confirm': confirm, 'salt_size': salt_size, 'salt': salt, 'default': default,
                  'unsafe': unsafe}
        body = self._parent('v2_playbook_on_vars_prompt')
        args = [varname, private, prompt, encrypt, confirm, salt_size, salt, default]
        try:
            if 'unsafe' in inspect.signature(body).parameters:
                args.append(unsafe)
        except (TypeError, ValueError):
            pass
        self._emit('playbook_on_vars_prompt', fields, body, *args)

    def v2_playbook_on_include(self, included_file):
        fields = {'included_file': included_file._filename if included_file is not None else None}
        self._emit('playbook_on_include', fields, self._parent('v2_playbook_on_include'), included_file)

    def v2_playbook_on_play_start(self, play):
        if IS_ADHOC:
            return
        play._uuid = self._numbered(self._arunner_seen_plays, self._arunner_play_repeats, str(play._uuid))
        pattern = _play_pattern(play)
        name = play.get_name().strip() or pattern
        self._enter_play(play, name, pattern)
        fields = {'name': name, 'pattern': pattern, 'uuid': str(play._uuid)}
        self._emit('playbook_on_play_start', fields, self._parent('v2_playbook_on_play_start'), play)

    def v2_playbook_on_import_for_host(self, result, imported_file):
        self._emit('playbook_on_import_for_host', {}, self._parent('v2_playbook_on_import_for_host'),
                   result, imported_file)

    def v2_playbook_on_not_import_for_host(self, result, missing_file):
        self._emit('playbook_on_not_import_for_host', {}, self._parent('v2_playbook_on_not_import_for_host'),
                   result, missing_file)

    def v2_playbook_on_setup(self):
        self._emit('playbook_on_setup', {}, self._parent('v2_playbook_on_setup'))

    def v2_playbook_on_task_start(self, task, is_conditional):
        if IS_ADHOC:
            self._enter_task(task)
            return
        task_uuid = self._numbered(self._arunner_seen_tasks, self._arunner_task_repeats, str(task._uuid))
        self._enter_task(task)
        fields = {'task': task, 'name': task.get_name(), 'is_conditional': is_conditional, 'uuid': task_uuid}
        self._emit('playbook_on_task_start', fields, self._parent('v2_playbook_on_task_start'),
                   task, is_conditional)

    def _special_task_start(self, method, task):
        # handler and cleanup tasks are reported as task starts with is_conditional true
        self._enter_task(task)
        fields = {'task': task, 'name': task.get_name(), 'uuid': str(task._uuid), 'is_conditional': True}
        self._emit('playbook_on_task_start', fields, self._parent(method), task)

    def v2_playbook_on_cleanup_task_start(self, task):
        self._special_task_start('v2_playbook_on_cleanup_task_start', task)

    def v2_playbook_on_handler_task_start(self, task):
        self._special_task_start('v2_playbook_on_handler_task_start', task)

    def v2_playbook_on_no_hosts_matched(self):
        self._emit('playbook_on_no_hosts_matched', {}, self._parent('v2_playbook_on_no_hosts_matched'))

    def v2_playbook_on_no_hosts_remaining(self):
        self._emit('playbook_on_no_hosts_remaining', {}, self._parent('v2_playbook_on_no_hosts_remaining'))

    def v2_playbook_on_notify(self, handler, host):
        fields = {'host': host.get_name(), 'handler': handler.get_name()}
        self._emit('playbook_on_notify', fields, self._parent('v2_playbook_on_notify'), handler, host)

    def v2_playbook_on_stats(self, stats):
        self._leave_play()
        custom = getattr(stats, 'custom', None)
        fields = {
            'changed': stats.changed,
            'dark': stats.dark,
            'failures': stats.failures,
            'ignored': getattr(stats, 'ignored', 0),
            'ok': stats.ok,
            'processed': stats.processed,
            'rescued': getattr(stats, 'rescued', 0),
            'skipped': stats.skipped,
            'artifact_data': custom.get('_run', {}) if custom is not None else {},
        }
        self._emit('playbook_on_stats', fields, self._parent('v2_playbook_on_stats'), stats)

    # -- per-host callbacks ---------------------------------------------------------------

    def v2_runner_on_start(self, host, task):
        self._arunner_started[host.get_name()] = utc_now()
        self._emit('runner_on_start', {'host': host.get_name(), 'task': task},
                   self._parent('v2_runner_on_start'), host, task)

    def v2_runner_on_ok(self, result):
        task = result._task
        if task.action in FACT_GATHERING_ACTIONS or getattr(task, 'resolved_action', None) in FACT_GATHERING_ACTIONS:
            facts = result._result.get('ansible_facts')
            if isinstance(facts, dict):
                facts.pop('ansible_env', None)
        start, end, duration = self._timing(result)
        fields = {'host': result._host.get_name(), 'remote_addr': result._host.address, 'task': task,
                  'res': result._result, 'start': start, 'end': end, 'duration': duration,
                  'event_loop': _loop_kind(task)}
        self._emit('runner_on_ok', fields, self._parent('v2_runner_on_ok'), result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        start, end, duration = self._timing(result)
        fields = {'host': result._host.get_name(), 'remote_addr': result._host.address,
                  'res': result._result, 'task': result._task, 'start': start, 'end': end,
                  'duration': duration, 'ignore_errors': ignore_errors,
                  'event_loop': _loop_kind(result._task)}
        self._emit('runner_on_failed', fields, self._parent('v2_runner_on_failed'), result, ignore_errors)

    def v2_runner_on_skipped(self, result):
        start, end, duration = self._timing(result)
        fields = {'host': result._host.get_name(), 'remote_addr': result._host.address,
                  'task': result._task, 'start': start, 'end': end, 'duration': duration,
                  'event_loop': _loop_kind(result._task)}
        self._emit('runner_on_skipped', fields, self._parent('v2_runner_on_skipped'), result)

    def v2_runner_on_unreachable(self, result):
        start, end, duration = self._timing(result)
        fields = {'host': result._host.get_name(), 'remote_addr': result._host.address,
                  'task': result._task, 'start': start, 'end': end, 'duration': duration,
                  'res': result._result}
        self._emit('runner_on_unreachable', fields, self._parent('v2_runner_on_unreachable'), result)

    def v2_runner_on_no_hosts(self, task):
        self._emit('runner_on_no_hosts', {'task': task}, self._parent('v2_runner_on_no_hosts'), task)

    def _async_event(self, event, method, result):
        fields = {'host': result._host.get_name(), 'task': result._task, 'res': result._result,
                  'jid': result._result.get('ansible_job_id')}
        self._emit(event, fields, self._parent(method), result)

    def v2_runner_on_async_poll(self, result):
        self._async_event('runner_on_async_poll', 'v2_runner_on_async_poll', result)

    def v2_runner_on_async_ok(self, result):
        self._async_event('runner_on_async_ok', 'v2_runner_on_async_ok', result)

    def v2_runner_on_async_failed(self, result):
        self._async_event('runner_on_async_failed', 'v2_runner_on_async_failed', result)

    def v2_runner_on_file_diff(self, result, diff):
        fields = {'host': result._host.get_name(), 'task': result._task, 'diff': diff}
        self._emit('runner_on_file_diff', fields, self._parent('v2_runner_on_file_diff'), result, diff)

    def v2_on_file_diff(self, result):
        fields = {'host': result._host.get_name(), 'task': result._task, 'diff': result._result.get('diff')}
        self._emit('runner_on_file_diff', fields, self._parent('v2_on_file_diff'), result)

    def _result_event(self, event, method, result):
        fields = {'host': result._host.get_name(), 'task': result._task, 'res': result._result}
        self._emit(event, fields, self._parent(method), result)

    def v2_runner_item_on_ok(self, result):
        self._result_event('runner_item_on_ok', 'v2_runner_item_on_ok', result)

    def v2_runner_item_on_failed(self, result):
        self._result_event('runner_item_on_failed', 'v2_runner_item_on_failed', result)

    def v2_runner_item_on_skipped(self, result):
        self._result_event('runner_item_on_skipped', 'v2_runner_item_on_skipped', result)

    def v2_runner_retry(self, result):
        self._result_event('runner_retry', 'v2_runner_retry', result)

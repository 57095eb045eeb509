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
# named by ARUNNER_FRAME_FD (in a container, awx_display_boot/container_init/__init__.py does). The
# start-up hook awx_display_boot takes it when Python starts, before any of ansible's code (and
# so any inventory script) runs, and makes the process non-dumpable; the plugin reads it itself
# only where the hook did not run. The fd is closed and both variables are removed from
# os.environ, so modules, connections and scripts never inherit them. arunner takes bytes that
# look like a frame without the secret as plain output.
#
# The three pieces are written under one process-wide lock to the stream the text goes to,
# normally in a single write (see awx_display_frames._EventOutput), and the stream is flushed after the closing
# frame. Nothing is written to disk.
#
# This code runs once per job event inside ansible-playbook, so it is kept cheap: no uuid.UUID
# objects, no getpid() per event, one cached JSON encoder, one write per event.
#
# This file is the callback: which events, with which data. Two helpers sit next to it, each a
# package whose code is all in its __init__.py, because ansible takes any other .py file in a
# callback plugin dir, or one or two directories below it, for a callback plugin (and warns that
# it is not one) but skips __init__.py:
#   awx_display_frames/  the secret, the frames, an event's begin dict, the hooks on Display
#   awx_display_json/    the frames' JSON

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
import inspect
import os
import sys

from ansible import constants as C
from ansible.plugins.loader import callback_loader


def _import_helpers():
    """The helper packages next to this file. The directory is on sys.path only while they are
    imported: ansible, modules and connections must not see it."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    try:
        import awx_display_frames
    finally:
        sys.path.remove(here)
    return awx_display_frames


# Importing the helpers takes the frame secret, before ansible starts any worker.
frames = _import_helpers()
new_uuid = frames.new_uuid
utc_now = frames.utc_now


# ---------------------------------------------------------------------------------------
# Settings, read once: the environment of an ansible process does not change under it.

IS_ADHOC = bool(os.getenv('AD_HOC_COMMAND_ID'))

CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"

# The context keys that describe a task; they are cleared together.
TASK_KEYS = ('task', 'task_path', 'task_uuid', 'task_action', 'task_args', 'resolved_action',
             'role', 'resolved_role')
PLAY_KEYS = ('play', 'play_uuid', 'play_pattern')

FACT_GATHERING_ACTIONS = frozenset((
    'setup', 'gather_facts',
    'ansible.builtin.setup', 'ansible.builtin.gather_facts',
    'ansible.legacy.setup', 'ansible.legacy.gather_facts',
))


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

STATE = frames.install_display_hooks()


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
        super().__init__(*args, **kwargs)
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
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        merged = dict(getattr(self, '_plugin_options', None) or {})
        merged.update(self._arunner_extra_options)
        self._plugin_options = merged

    def get_option(self, k):
        try:
            return super().get_option(k)
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
        return getattr(super(), name, None)

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

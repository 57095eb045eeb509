# Tests of plugins/callback/awx_display.py, loaded as ansible-playbook loads it: callback events
# come out framed, each in one write, with ansible-runner's key order, around the text of the
# wrapped `default` callback.
import json
import os
import re
import sys
import types
import unittest
from unittest import mock

PLUGIN_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'plugins', 'callback'))
SECRET = 'fedcba9876543210fedcba9876543210'

callback = None


def setUpModule():
    global callback
    # as arunner runs ansible-playbook (src/config/child_environment.cpp)
    os.environ.update({'ANSIBLE_CALLBACK_PLUGINS': PLUGIN_DIR, 'ANSIBLE_STDOUT_CALLBACK': 'awx_display',
                       'ANSIBLE_NOCOLOR': '1', 'ARUNNER_FRAME_SECRET': SECRET})
    from ansible import context
    from ansible.module_utils.common.collections import ImmutableDict
    from ansible.plugins.loader import callback_loader
    context.CLIARGS = ImmutableDict(check=False, verbosity=0)  # what ansible-playbook parsed
    callback = callback_loader.get('awx_display')
    callback.set_options()


class Recorder:
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


def parse_event(written):
    match = FRAME_RE.match(written)
    if match is None:
        raise AssertionError('not one framed event: %r' % written[:300])
    return json.loads(match.group(1)), match.group(2)


class CallbackEventsTest(unittest.TestCase):

    def setUp(self):
        self.stdout = Recorder()
        patcher = mock.patch.object(sys, 'stdout', self.stdout)
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_loaded_from_the_plugin_dir_with_the_secret_taken(self):
        self.assertEqual(os.path.dirname(callback._original_path), PLUGIN_DIR)
        self.assertNotIn('ARUNNER_FRAME_SECRET', os.environ)

    def test_playbook_and_play_start_are_framed_events_in_one_write_each(self):
        callback.v2_playbook_on_start(types.SimpleNamespace(_file_name='site.yml'))
        play = types.SimpleNamespace(get_name=lambda: 'web servers', _uuid='02fc0000-0001-10e8-c8d1-000000000002',
                                     hosts=['web1', 'web2'], check_mode=False)
        callback.v2_playbook_on_play_start(play)

        writes = self.stdout.writes()
        self.assertEqual(len(writes), 2)
        self.assertEqual(self.stdout.calls[-1], ('flush',))
        start, start_text = parse_event(writes[0])
        self.assertEqual(start_text, '')
        self.assertEqual(start['event'], 'playbook_on_start')
        self.assertEqual(list(start), ['event', 'pid', 'uuid', 'created', 'event_data'])
        self.assertEqual(start['event_data'], {'playbook': 'site.yml', 'playbook_uuid': start['uuid'],
                                               'uuid': start['uuid']})

        begin, text = parse_event(writes[1])
        self.assertEqual(begin['event'], 'playbook_on_play_start')
        self.assertEqual(list(begin), ['event', 'pid', 'uuid', 'created', 'parent_uuid', 'event_data'])
        self.assertEqual(begin['uuid'], '02fc0000-0001-10e8-c8d1-000000000002')
        self.assertEqual(begin['parent_uuid'], start['uuid'])
        self.assertEqual(list(begin['event_data'].items()), [
            ('playbook', 'site.yml'), ('playbook_uuid', start['uuid']), ('play', 'web servers'),
            ('play_uuid', '02fc0000-0001-10e8-c8d1-000000000002'), ('play_pattern', 'web1,web2'),
            ('name', 'web servers'), ('pattern', 'web1,web2'), ('uuid', '02fc0000-0001-10e8-c8d1-000000000002')])
        self.assertRegex(text, r'\A\nPLAY \[web servers\] \*+\n\Z')


if __name__ == '__main__':
    unittest.main()

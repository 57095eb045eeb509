# Tests of plugins/callback/awx_display_json: the JSON of the begin frames. arunner parses it
# again (src/events/event_decoder.cpp), so it must be pure ASCII, hold no ESC, and come out for
# whatever ansible puts in a result, as Python's json writes it (what ansible-runner's plugin
# writes).
import collections.abc
import datetime
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'plugins', 'callback'))

from ansible.parsing.yaml.objects import AnsibleVaultEncryptedUnicode
from ansible.utils.unsafe_proxy import AnsibleUnsafeBytes, AnsibleUnsafeText

from awx_display_json import encode_event


def encoded_res(value):
    """The JSON of event_data.res in the begin dict of an event whose res is value."""
    text = encode_event({'event': 'runner_on_ok', 'event_data': {'res': value}})
    prefix, suffix = '{"event":"runner_on_ok","event_data":{"res":', '}}'
    assert text.startswith(prefix) and text.endswith(suffix), text
    return text[len(prefix):-len(suffix)]


class _BadStr:
    def __str__(self):
        raise RuntimeError('no str')

    def __repr__(self):
        return '<bad str>'


class _Strange:
    def __str__(self):
        return 'strange object'


class _OrderedMapping(collections.abc.Mapping):
    def __init__(self, pairs):
        self._pairs = dict(pairs)

    def __getitem__(self, key):
        return self._pairs[key]

    def __iter__(self):
        return iter(self._pairs)

    def __len__(self):
        return len(self._pairs)


class EncodeEventTest(unittest.TestCase):

    def test_compact_with_keys_in_insertion_order(self):
        data = {'event': 'runner_on_ok', 'pid': 42, 'uuid': 'u', 'event_data': {'zeta': 1, 'alpha': [1, 2], 'mid': None}}
        self.assertEqual(encode_event(data),
                         '{"event":"runner_on_ok","pid":42,"uuid":"u","event_data":{"zeta":1,"alpha":[1,2],"mid":null}}')

    def test_scalars(self):
        self.assertEqual(encoded_res(True), 'true')
        self.assertEqual(encoded_res(False), 'false')
        self.assertEqual(encoded_res(None), 'null')
        self.assertEqual(encoded_res(-5), '-5')
        self.assertEqual(encoded_res(2 ** 70), '1180591620717411303424')

    def test_floats_as_python_repr(self):
        self.assertEqual(encoded_res(0.1), '0.1')
        self.assertEqual(encoded_res(1.0), '1.0')
        self.assertEqual(encoded_res(-0.0), '-0.0')
        self.assertEqual(encoded_res(1e100), '1e+100')
        self.assertEqual(encoded_res(1.5e-7), '1.5e-07')
        self.assertEqual(encoded_res(0.30000000000000004), '0.30000000000000004')

    def test_nan_and_infinity_become_null_wherever_they_are(self):
        self.assertEqual(encoded_res(float('nan')), 'null')
        self.assertEqual(encoded_res(float('inf')), 'null')
        self.assertEqual(encoded_res(float('-inf')), 'null')
        self.assertEqual(encoded_res({'a': [1.5, {'b': float('nan')}], 'c': 'x'}), '{"a":[1.5,{"b":null}],"c":"x"}')

    def test_non_ascii_is_escaped(self):
        self.assertEqual(encoded_res('caf\u00e9'), '"caf\\u00e9"')
        self.assertEqual(encoded_res('\u65e5\u672c'), '"\\u65e5\\u672c"')
        self.assertEqual(encoded_res('a\u2028b'), '"a\\u2028b"')
        # outside the BMP: a surrogate pair, which is valid
        self.assertEqual(encoded_res('\U0001F600'), '"\\ud83d\\ude00"')

    def test_control_characters_are_escaped_so_no_esc_reaches_a_frame(self):
        self.assertEqual(encoded_res('\x1b_arunner:x:\x1b\\'), '"\\u001b_arunner:x:\\u001b\\\\"')
        self.assertEqual(encoded_res('\x00\t\n\x7f'), '"\\u0000\\t\\n\\u007f"')

    def test_lone_surrogates_become_replacement_characters(self):
        # what Python makes of undecodable bytes (surrogateescape)
        self.assertEqual(encoded_res(b'caf\xff'.decode('utf-8', 'surrogateescape')), '"caf\\ufffd"')
        self.assertEqual(encoded_res('\ud800x'), '"\\ufffdx"')
        self.assertEqual(encoded_res({'k\udc80': ['\udbff']}), '{"k\\ufffd":["\\ufffd"]}')

    def test_text_that_spells_a_surrogate_escape_is_kept(self):
        # a backslash followed by "ud800" is text, not an escape
        self.assertEqual(encoded_res('\\ud800'), '"\\\\ud800"')
        self.assertEqual(encoded_res('\\\\ud800\udc00'), '"\\\\\\\\ud800\\ufffd"')

    def test_output_is_ascii_json_that_parses_back(self):
        value = {'text': 'caf\u00e9 \U0001F600 \x1b', 'list': [1, 2.5, None, True], 'nested': {'deep': [{'x': 'y'}]}}
        text = encode_event({'event': 'x', 'event_data': {'res': value}})
        self.assertTrue(text.isascii())
        self.assertNotIn('\n', text)
        self.assertEqual(json.loads(text)['event_data']['res'], value)

    def test_bytes_are_decoded_as_utf8_with_replacement(self):
        self.assertEqual(encoded_res(b'caf\xc3\xa9\xff'), '"caf\\u00e9\\ufffd"')
        self.assertEqual(encoded_res(bytearray(b'abc')), '"abc"')

    def test_ansible_unsafe_values_are_plain(self):
        self.assertEqual(encoded_res(AnsibleUnsafeText('\u00fcnsafe')), '"\\u00fcnsafe"')
        self.assertEqual(encoded_res(AnsibleUnsafeBytes(b'by\xfftes')), '"by\\ufffdtes"')

    def test_vaulted_values_keep_their_ciphertext(self):
        vaulted = AnsibleVaultEncryptedUnicode(b'$ANSIBLE_VAULT;1.1;AES256\n6162')
        self.assertEqual(encoded_res(vaulted), '{"__ansible_vault":"$ANSIBLE_VAULT;1.1;AES256\\n6162"}')

    def test_dates_sets_and_mappings(self):
        self.assertEqual(encoded_res(datetime.datetime(2020, 1, 2, 3, 4, 5, 6)), '"2020-01-02T03:04:05.000006"')
        self.assertEqual(encoded_res(datetime.datetime(2020, 1, 2, tzinfo=datetime.timezone.utc)),
                         '"2020-01-02T00:00:00+00:00"')
        self.assertEqual(encoded_res(datetime.date(2020, 1, 2)), '"2020-01-02"')
        self.assertEqual(encoded_res(datetime.time(1, 2)), '"01:02:00"')
        self.assertEqual(encoded_res(frozenset(['only'])), '["only"]')
        self.assertEqual(encoded_res(_OrderedMapping([('z', 1), ('a', 2)])), '{"z":1,"a":2}')
        self.assertEqual(encoded_res((1, 'x')), '[1,"x"]')

    def test_other_objects_become_their_str_or_repr(self):
        self.assertEqual(encoded_res(_Strange()), '"strange object"')
        self.assertEqual(encoded_res([_BadStr()]), '["<bad str>"]')

    def test_keys_that_are_not_strings(self):
        self.assertEqual(encoded_res({1: 'a', None: 'b', False: 'c', 1.5: 'd'}),
                         '{"1":"a","null":"b","false":"c","1.5":"d"}')
        self.assertEqual(encoded_res({(1, 2): 'tuple key', 'k': 1}), '{"(1, 2)":"tuple key","k":1}')

    def test_cycles_are_cut(self):
        looped = {'name': 'x'}
        looped['self'] = looped
        self.assertEqual(encoded_res(looped), '{"name":"x","self":"<cycle>"}')
        items = [1]
        items.append(items)
        self.assertEqual(encoded_res(items), '[1,"<cycle>"]')

    def test_nesting_too_deep_keeps_the_event_without_its_data(self):
        deep = []
        inner = deep
        for _ in range(200000):
            inner.append([])
            inner = inner[0]
        self.assertEqual(encode_event({'event': 'runner_on_ok', 'uuid': 'u', 'event_data': {'res': deep}}),
                         '{"event":"runner_on_ok","uuid":"u","event_data":{}}')


if __name__ == '__main__':
    unittest.main()

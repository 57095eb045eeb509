# The JSON of arunner's event frames (see ../awx_display.py and docs/frames.md): Python's json,
# pure ASCII, no spaces, and never an exception, whatever ansible puts in a result.
#
# All the code is in __init__.py: ansible takes every other .py file in a callback plugin dir,
# or one or two directories below it, for a callback plugin (and warns that it is not one), but
# skips __init__.py.
import datetime
import json
import re
from collections.abc import Mapping


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


# Made once, not per event. allow_nan=False: NaN and Infinity are not JSON, so they take the
# slow path below. The payload is parsed again by arunner, so it needs no spaces; a cycle ends
# in RecursionError (no check_circular) and takes the slow path too.
_ENCODER = _EventEncoder(allow_nan=False, check_circular=False, separators=(',', ':'))


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
    """The begin dict `data` as one line of JSON."""
    try:
        text = _ENCODER.encode(data)
    except Exception:
        try:
            text = _ENCODER.encode(_plain(data, set()))
        except Exception:  # e.g. nesting too deep even for _plain: keep the event, drop its data
            text = _ENCODER.encode(_plain(dict(data, event_data={}), set()))
    if '\\ud' in text:
        text = _SURROGATE_RE.sub(_fix_surrogate, text)
    return text

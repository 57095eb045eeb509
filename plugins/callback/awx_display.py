# arunner's stdout callback for Ansible. It takes the name ansible-runner's plugin has
# (awx_display) so that ANSIBLE_STDOUT_CALLBACK=awx_display works the same, and it wraps the
# stdout callback the user configured (ORIGINAL_STDOUT_CALLBACK, else `minimal` for ad hoc
# commands, else `default`), so the human output is exactly that callback's.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = '''
    name: awx_display
    short_description: arunner's stdout callback (ansible-runner compatible)
    description:
        - Prints what the wrapped stdout callback prints.
    type: stdout
    extends_documentation_fragment:
      - default_callback
'''

import os

from ansible.plugins.loader import callback_loader

if os.getenv('ORIGINAL_STDOUT_CALLBACK'):
    _WRAPPED_NAME = os.getenv('ORIGINAL_STDOUT_CALLBACK')
elif os.getenv('AD_HOC_COMMAND_ID'):
    _WRAPPED_NAME = 'minimal'
else:
    _WRAPPED_NAME = 'default'

_WrappedCallback = callback_loader.get(_WRAPPED_NAME).__class__


class CallbackModule(_WrappedCallback):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'awx_display'

# Ansible's XenServer modules import the SDK's XenAPI.py as the top-level module "XenAPI"; Debian
# ships the same file as os_xenapi.client.XenAPI (python3-os-xenapi). This makes it importable
# under the name the modules use, unchanged.
from os_xenapi.client.XenAPI import *  # noqa: F401,F403
from os_xenapi.client.XenAPI import Failure, Session, xapi_local  # noqa: F401

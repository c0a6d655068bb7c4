"""Schemathesis hooks for Kabinet's run.sh (loaded through SCHEMATHESIS_HOOKS).

When KABINET_ST_SOURCE_ADDR is set, every connection this process opens is bound to that
local (loopback) address. The sign-in fuzzing run uses it so that its many wrong-password
attempts fill the login throttle's per-address bucket of a throwaway 127.x.y.z address, not
that of 127.0.0.1: otherwise the run would lock every loopback sign-in (this script's next
run, another developer's server sharing the same database) for 15 minutes.
"""

import os

import urllib3.connection

_SOURCE = os.environ.get("KABINET_ST_SOURCE_ADDR")

if _SOURCE:
    if not _SOURCE.startswith("127."):
        raise RuntimeError(f"KABINET_ST_SOURCE_ADDR={_SOURCE!r}: only loopback addresses")
    _original_init = urllib3.connection.HTTPConnection.__init__

    def _bound_init(self, *args, **kwargs):
        if kwargs.get("source_address") is None:
            kwargs["source_address"] = (_SOURCE, 0)
        _original_init(self, *args, **kwargs)

    urllib3.connection.HTTPConnection.__init__ = _bound_init

# The loader of a prepared Python runtime (languages/README.md, "prepare").
# The step put this file at /tmp/.sandpool/sitecustomize.py and started
# `python3 main.py` with PYTHONPATH=/tmp/.sandpool, before the job came:
# Python imports it at the end of its start, before it opens main.py. It
# takes itself away, waits on descriptor 3 for the job's arguments (each
# NUL-terminated, up to the end of the stream), and hands over to the
# image's own sitecustomize, if it has one, as a fresh start imports it
# (its import stands in for this one's; where there is none, its
# ImportError is what site passes over in silence). Python then runs main.py
# as it would have from the start.
import os
import sys


def _sandpool_take_over():
    here = os.path.dirname(__file__)
    os.unlink(__file__)
    os.rmdir(here)
    del os.environ["PYTHONPATH"]
    sys.path[:] = [p for p in sys.path if p != here]
    sys.path_importer_cache.pop(here, None)
    data = b""
    while True:
        chunk = os.read(3, 65536)
        if not chunk:
            break
        data += chunk
    os.close(3)
    args = [os.fsdecode(a) for a in data.split(b"\0")[:-1]]
    sys.argv.extend(args)
    sys.orig_argv.extend(args)


_sandpool_take_over()
del sys.modules[__name__]
__import__(__name__)

import os
import sys

for arg in sys.argv[1:]:
    data = os.fsencode(arg)
    sys.stdout.buffer.write(b"%d:" % len(data) + data + b"\n")

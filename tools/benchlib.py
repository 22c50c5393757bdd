"""What the benchmark tools share: a free port, percentiles, memory of a
process tree, wrk posting a job."""

import json
import os
import re
import socket
import subprocess


def free_port():
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    """The value at P percent of VALUES (nearest rank)."""
    values = sorted(values)
    return values[max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))]


def pss_kb(pid):
    """Proportional set size of PID in KiB, 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    """The direct children of PID."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def descendants(pid):
    """Every process below PID."""
    found, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        found += kids
        todo += kids
    return found


WRK_SCRIPT = r"""
wrk.method = "POST"
wrk.body = [[%s]]
wrk.headers["Content-Type"] = "application/json"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status ~= %d or not string.find(body, '"stdout":"%s', 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("bad") end
  io.write(string.format("bad_answers %%d\n", n))
end
"""
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def wrk_post(url, body, stdout, connections, duration, tmp, status=200):
    """wrk POSTing BODY (JSON) to URL over CONNECTIONS for DURATION s, each
    answer checked (STATUS, and STDOUT in its "stdout"); TMP holds its script.
    {"rate", "p50", "p99" (ms)}; RuntimeError on a wrong answer."""
    script = os.path.join(tmp, f"wrk-{connections}.lua")
    with open(script, "w") as f:
        f.write(WRK_SCRIPT % (json.dumps(body), status, stdout.replace("\n", "\\\\n")))
    cmd = ["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d",
           f"{duration}s", "--latency", "--timeout", "60s", "-s", script, url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        m = re.match(r"\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", line)
        if m:
            found[f"p{m.group(1)}"] = float(m.group(2)) * UNITS[m.group(3)]
        m = re.match(r"Requests/sec:\s+([\d.]+)", line)
        if m:
            found["rate"] = float(m.group(1))
        m = re.match(r"bad_answers (\d+)", line)
        if m:
            found["bad"] = int(m.group(1))
        m = re.match(r"\s*Non-2xx or 3xx responses: (\d+)", line)
        if m:
            found["non2xx"] = int(m.group(1))
    if found.get("bad", 1) or found.get("non2xx", 0) or "rate" not in found:
        raise RuntimeError(f"wrong answers:\n{out}")
    return found

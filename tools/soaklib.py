"""What tools/soak looks at on the host: the processes, cgroups, mounts,
open files and temporary files that a `sandpool serve` makes, so that what
it leaves behind can be told apart from what was there before it."""

import os
import re

from benchlib import descendants

CGROUP_MOUNT = "/sys/fs/cgroup"


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def alive(pid):
    return os.path.exists(f"/proc/{pid}")


def proc_stat(pid):
    """(ppid, start time in clock ticks) of PID, or None when it is gone."""
    text = read(f"/proc/{pid}/stat")
    if not text:
        return None
    fields = text[text.rfind(")") + 2:].split()
    return int(fields[1]), int(fields[19])


def proc_uid(pid):
    for line in read(f"/proc/{pid}/status").splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    return None


def cmdline(pid):
    return read(f"/proc/{pid}/cmdline").split("\0")[:-1]


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def rss_pss_kb(pid):
    """(Rss, Pss) of PID in KiB from smaps_rollup, (0, 0) when it is gone."""
    rss = pss = 0
    for line in read(f"/proc/{pid}/smaps_rollup").splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1])
        elif line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss, pss


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def fd_targets(pid):
    found = []
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                found.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                pass
    except OSError:
        pass
    return found


def own_cgroup_dirs(pid):
    """The directories of PID's own cgroups: one per v1 hierarchy mounted
    under /sys/fs/cgroup, and the v2 one ("unified" on a hybrid host)."""
    dirs = {}
    mounts = {}
    for line in read("/proc/self/mountinfo").splitlines():
        left, _, right = line.partition(" - ")
        fstype, _, opts = right.split()[:3]
        point = left.split()[4]
        if fstype == "cgroup2":
            mounts[""] = point
        elif fstype == "cgroup":
            for o in opts.split(","):
                if o in ("memory", "pids", "cpuacct", "cpu", "cpuset", "freezer", "blkio",
                         "devices", "net_cls", "perf_event", "hugetlb", "rdma", "misc") \
                        or o.startswith("name="):
                    mounts[o] = point
    for line in read(f"/proc/{pid}/cgroup").splitlines():
        _, ctrls, path = line.split(":", 2)
        for c in (ctrls.split(",") if ctrls else [""]):
            point = mounts.get(c)
            if point and os.path.isdir(point + path):
                dirs[point] = os.path.normpath(point + path)
    return sorted(set(dirs.values()))


def cgroups_below(dirs, marker):
    """Every cgroup below DIRS whose path has a component starting with MARKER."""
    found = []
    for top in dirs:
        for root, subdirs, _ in os.walk(top):
            rel = os.path.relpath(root, top)
            if rel != "." and any(p.startswith(marker) for p in rel.split(os.sep)):
                found.append(root)
            if root != top and rel.count(os.sep) >= 3:
                subdirs[:] = []
    return sorted(found)


def cgroup_procs(dirs):
    pids = []
    for d in dirs:
        pids += [int(p) for p in read(os.path.join(d, "cgroup.procs")).split()]
    return pids


def mounts():
    """Mount points of the host (this process's mount namespace)."""
    return [line.split()[4] for line in read("/proc/self/mountinfo").splitlines()]


def tree(pid):
    """PID and every process below it."""
    return [pid] + descendants(pid)


CELL_NAME = re.compile(r"cell-(\d+)$")


def dead_cell_cgroups(paths):
    """Cell cgroups (cell-PID) whose init is gone."""
    out = []
    for p in paths:
        m = CELL_NAME.search(p)
        if m and not alive(int(m.group(1))):
            out.append(p)
    return out

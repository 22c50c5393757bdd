"""Many nodes on one queue: a real redis-server (Debian's, on loopback, with
a password), two API nodes (`sandpool serve --queue`, no cells of their
own) and worker nodes (`sandpool worker --queue`), each its own process.

A job submitted on one API node runs on a worker and is seen, with the same
token only, from every API node; its events stream to WebSocket clients of
any API node, and an interactive run takes its input from a client of any
API node. Users take turns across the cluster. A worker killed (SIGKILL) or stopped (SIGSTOP) past its lease
in the middle of a job loses nothing: another worker runs it and the client
gets one answer. A job that takes its worker down on every delivery ends
internal_error and is set aside. Redis down gives 503 at once; back up, the
nodes find it again by themselves."""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

from redisd import PASSWORD, Redis
from test_server import SEED, TOKEN, Server, wait_state
from test_ws import ECHO, Client, connect, run

OTHER = "other-token-0123456789abcdef"
LEASE_S = 2
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SLEEPER = "import time\nprint('start', flush=True)\ntime.sleep({s})\nprint('end')\n"


def api_node(redis):
    return Server({"pool_total": 0, "tokens": [TOKEN, OTHER]}, ["--queue", redis.url])


def worker_node(redis, max_deliveries=2):
    return Server({"pool_total": 2, "pool_sizes": {"python": 2}, "queue_lease_s": LEASE_S,
                   "queue_max_deliveries": max_deliveries, "tokens": [TOKEN, OTHER]},
                  ["--queue", redis.url], command="worker")


class Cluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = Redis()
        cls.api = [api_node(cls.redis), api_node(cls.redis)]
        cls.workers = [worker_node(cls.redis), worker_node(cls.redis)]

    @classmethod
    def tearDownClass(cls):
        for node in cls.api + cls.workers:
            if node.proc.poll() is None:
                node.stop()
        cls.redis.stop()

    # --- helpers ---------------------------------------------------------

    def post(self, node, path, body, token=TOKEN):
        return node.request("POST", path, body, headers={"Authorization": f"Bearer {token}"})

    def get(self, node, job_id, token=TOKEN, method="GET"):
        return node.request(method, f"/api/v1/jobs/{job_id}",
                            headers={"Authorization": f"Bearer {token}"})

    def field(self, job_id, name):
        return self.redis.cli("HGET", f"sandpool:job:{job_id}", name)

    def wait_field(self, job_id, name, want=None, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.field(job_id, name)
            if value and (want is None or value == want):
                return value
            time.sleep(0.05)
        raise AssertionError(f"job {job_id}: {name} never became {want}")

    def worker_running(self, job_id, not_in=(), timeout=30):
        """The worker node whose process runs JOB_ID (its name ends in its
        pid), other than those of NOT_IN."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            node = self.field(job_id, "worker")
            pid = int(node.rsplit("-", 1)[1]) if node else 0
            if self.field(job_id, "state") == "running" and pid not in not_in:
                for w in self.workers:
                    if w.proc.pid == pid:
                        return w
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} runs on no worker of ours")

    def kill(self, worker):
        """SIGKILL WORKER, and start another in its place."""
        worker.proc.kill()
        worker.proc.wait()
        worker.log.close()
        shutil.rmtree(worker.dir, ignore_errors=True)
        self.workers.remove(worker)
        self.workers.append(worker_node(self.redis))

    def settled(self):
        """Nothing left in the streams (one per language and user): every
        entry acknowledged and gone."""
        deadline = time.monotonic() + 20
        while True:
            streams = self.redis.cli("--scan", "--pattern", "sandpool:q:*").split()
            left = {k: self.redis.cli("XLEN", k) for k in streams}
            if all(n == "0" for n in left.values()):
                return
            if time.monotonic() > deadline:
                self.fail(f"streams kept entries: {left}")
            time.sleep(0.1)

    def submit_async(self, code):
        status, view, _ = self.post(self.api[0], "/api/v1/jobs",
                                    {"language": "python", "code": code})
        self.assertEqual(status, 202, view)
        return view["id"]

    # --- tests -----------------------------------------------------------

    def test_run_answers_from_a_worker(self):
        for node in self.api:
            status, r, _ = self.post(node, "/api/v1/run", SEED)
            self.assertEqual((status, r["status"], r["stdout"]), (200, "ok", "Hello World!\n"), r)
            worker = self.field(r["id"], "worker")
            self.assertIn(worker.rsplit("-", 1)[1],
                          [str(w.proc.pid) for w in self.workers], worker)
        status, r, _ = self.post(self.api[1], "/api/v1/run",
                                 {"language": "c", "code": "int main(){return 3;}"})
        self.assertEqual((status, r["status"], r["run"]["exit_code"]), (200, "runtime_error", 3),
                         r)
        # a small result comes with the news of its end; one too large for
        # it (16 KiB) is read from its key
        for size in (100, 40000):
            status, r, _ = self.post(self.api[1], "/api/v1/run",
                                     {"language": "python", "code": f"print('x' * {size})"})
            self.assertEqual((status, r["status"], r["stdout"]), (200, "ok", "x" * size + "\n"),
                             r.get("status"))
        status, r, _ = self.post(self.api[0], "/api/v1/run", SEED, token="nope")
        self.assertEqual(status, 401, r)
        self.settled()

    def test_workers_and_health(self):
        deadline = time.monotonic() + 20
        while True:
            status, body, _ = self.api[1].request("GET", "/api/v1/workers", headers=AUTH)
            self.assertEqual(status, 200, body)
            pids = {int(w["id"].rsplit("-", 1)[1]) for w in body["workers"]}
            if {w.proc.pid for w in self.workers} <= pids or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertLessEqual({w.proc.pid for w in self.workers}, pids, body)
        some = body["workers"][0]
        self.assertEqual(some["languages"]["python"]["cells"], 2, some)
        self.assertIn("last_seen_ms", some)
        status, health, _ = self.api[0].request("GET", "/healthz")
        self.assertEqual((status, health["queue"]["backend"], health["queue"]["reachable"]),
                         (200, "redis", True), health)

    def test_jobs_seen_from_every_api_node_with_their_token_only(self):
        job_id = self.submit_async("print(21 * 2)")
        status, view = wait_state(_Authed(self.api[1]), job_id, ("done",))
        self.assertEqual((status, view["result"]["stdout"]), (200, "42\n"), view)
        status, other, _ = self.get(self.api[1], job_id, token=OTHER)
        self.assertEqual(status, 404, other)
        status, again, _ = self.get(self.api[0], job_id)
        self.assertEqual(again["result"], view["result"])
        status, gone, _ = self.get(self.api[1], job_id, method="DELETE")
        self.assertEqual(status, 200, gone)
        status, _, _ = self.get(self.api[0], job_id)
        self.assertEqual(status, 404)

    def test_users_take_turns_across_the_cluster(self):
        cells = 2 * len(self.workers)
        flood = []
        for _ in range(3 * cells):
            status, view, _ = self.post(self.api[0], "/api/v1/jobs",
                                        {"language": "python", "userId": "flood",
                                         "code": "import time; time.sleep(0.5)"})
            self.assertEqual(status, 202, view)
            flood.append(view["id"])
        status, view, _ = self.post(self.api[1], "/api/v1/jobs",
                                    {"language": "python", "userId": "single",
                                     "code": "print('mine')"})
        single = view["id"]
        status, done = wait_state(_Authed(self.api[1]), single, ("done",))
        self.assertEqual(done["result"]["stdout"], "mine\n", done)
        started = int(self.field(single, "started"))
        before = [j for j in flood if self.field(j, "started")
                  and int(self.field(j, "started")) < started]
        # at most the cells busy when it came, and one turn of the flood
        self.assertLessEqual(len(before), 2 * cells, (len(before), cells))
        for j in flood:
            wait_state(_Authed(self.api[0]), j, ("done",))
        self.settled()

    def test_cancel_from_another_node_kills_the_run_on_its_worker(self):
        job_id = self.submit_async(SLEEPER.format(s=60))
        self.wait_field(job_id, "state", "running")
        start = time.monotonic()
        status, _, _ = self.get(self.api[1], job_id, method="DELETE")
        self.assertEqual(status, 200)
        status, view = wait_state(_Authed(self.api[0]), job_id, ("done",))
        self.assertEqual(view["result"]["status"], "cancelled", view)
        self.assertLess(time.monotonic() - start, 30)
        self.settled()

    def test_websocket_events_cross_nodes(self):
        async def go():
            async with connect(self.api[1], extra_headers=AUTH) as ws:
                c = Client(ws)
                await c.send(type="subscribe", userId="ada")
                await c.until("subscribed")
                code = "for i in range(3): print(i, flush=True)"
                done = threading.Event()

                def submit():
                    self.post(self.api[0], "/api/v1/run",
                              {"language": "python", "code": code, "userId": "ada"})
                    done.set()
                threading.Thread(target=submit).start()
                seen = await c.until("result")
                out = "".join(e["data"] for e in seen if e["type"] == "stdout")
                self.assertEqual(out, "0\n1\n2\n")
                self.assertEqual([e["type"] for e in seen][:2], ["queued", "started"])
                # a run over the WebSocket of the other node, streamed back
                await c.send(type="run", ref="w", language="python", code=code)
                seen = await c.until("result", ref="w")
                self.assertEqual(seen[-1]["result"]["stdout"], "0\n1\n2\n")
                # typing into a run on a worker: the prompt streams back, the
                # answer reaches the program through Redis
                await c.send(type="run", ref="i", language="python", code=ECHO,
                             stdin="", interactive=True)
                seen = await c.until("stdout", ref="i", data="ready\n")
                job_id = seen[-1]["id"]
                await c.send(type="stdin", id=job_id, data="hel")
                await c.send(type="stdin", id=job_id, data="bG8K", encoding="base64")
                rest = await c.until("result", ref="i")
                self.assertEqual(rest[-1]["result"]["stdout"], "ready\ngot hello\n", rest)
                await c.send(type="stdin", id=job_id, data="late")
                late = await c.until("error")
                self.assertIn(late[-1]["code"], ("not_found", "stdin_closed"))
                self.assertTrue(done.wait(60))
        run(go())

    def test_output_crosses_nodes_only_when_watched(self):
        """A worker sends a job's output to the API nodes only while a node
        watches the job or its user: a run nobody watches sends its queued
        and result news only; a user watched on one node gets its job's
        output there. A node's watch goes from Redis with its client."""
        code = "for i in range(3): print(i, flush=True)"
        heard = self.redis.listen("sandpool:events")
        try:
            status, r, _ = self.post(self.api[0], "/api/v1/run",
                                     {"language": "python", "code": code, "userId": "unseen"})
            self.assertEqual((status, r["stdout"]), (200, "0\n1\n2\n"), r)
            unwatched = r["id"]

            async def go():
                async with connect(self.api[1], extra_headers=AUTH) as ws:
                    c = Client(ws)
                    await c.send(type="subscribe", userId="grace")
                    await c.until("subscribed")
                    answers = []
                    submit = threading.Thread(target=lambda: answers.append(self.post(
                        self.api[0], "/api/v1/run",
                        {"language": "python", "code": code, "userId": "grace"})))
                    submit.start()
                    seen = await c.until("result")
                    submit.join(60)
                    self.assertEqual("".join(e["data"] for e in seen if e["type"] == "stdout"),
                                     "0\n1\n2\n")
                    return answers[0][1]["id"]
            watched = run(go())
        finally:
            events = [json.loads(m) for m in heard()]

        def types(job):
            return [m["event"]["type"] for m in events if m["event"].get("id") == job]
        self.assertEqual(types(unwatched), ["queued", "result"], events)
        self.assertIn("stdout", types(watched))
        deadline = time.monotonic() + 10
        while self.redis.cli("--scan", "--pattern", "sandpool:watch:*"):
            self.assertLess(time.monotonic(), deadline,
                            self.redis.cli("--scan", "--pattern", "sandpool:watch:*"))
            time.sleep(0.1)

    def test_worker_killed_mid_job_answers_once(self):
        answers = []
        job = {"language": "python", "code": SLEEPER.format(s=3), "userId": "killed"}
        thread = threading.Thread(
            target=lambda: answers.append(self.post(self.api[0], "/api/v1/run", job)))
        thread.start()
        # the job's id is the newest entry of its user's stream
        job_id = self._newest_job_id("sandpool:q:python:u:killed")
        victim = self.worker_running(job_id)
        self.kill(victim)
        thread.join(120)
        self.assertEqual(len(answers), 1)
        status, r, _ = answers[0]
        self.assertEqual((status, r["status"], r["stdout"]), (200, "ok", "start\nend\n"), r)
        self.assertNotEqual(self.field(job_id, "worker").rsplit("-", 1)[1], str(victim.proc.pid))
        self.settled()

    def test_worker_stopped_past_its_lease_answers_once(self):
        job_id = self.submit_async(SLEEPER.format(s=2 * LEASE_S))
        victim = self.worker_running(job_id)
        os.kill(victim.proc.pid, signal.SIGSTOP)
        try:
            # another worker takes it once the lease is over, and ends it
            status, view = wait_state(_Authed(self.api[0]), job_id, ("done",), timeout=60)
        finally:
            os.kill(victim.proc.pid, signal.SIGCONT)
        self.assertEqual((view["result"]["status"], view["result"]["stdout"]),
                         ("ok", "start\nend\n"), view)
        first = self.redis.cli("GET", f"sandpool:result:{job_id}")
        time.sleep(2 * LEASE_S + 1)  # the stopped one ends its copy too
        self.assertEqual(self.redis.cli("GET", f"sandpool:result:{job_id}"), first)
        self.settled()

    def test_poison_job_is_set_aside(self):
        status, view, _ = self.post(self.api[0], "/api/v1/jobs",
                                    {"language": "python", "code": SLEEPER.format(s=60),
                                     "limits": {"wall_ms": 60000}})
        job_id = view["id"]
        killed = set()
        for _ in range(2):  # max_deliveries is 2: the third taker sets it aside
            victim = self.worker_running(job_id, not_in=killed)
            killed.add(victim.proc.pid)
            self.kill(victim)
        status, view = wait_state(_Authed(self.api[0]), job_id, ("done",), timeout=30)
        self.assertEqual(view["state"], "done", view)
        self.assertEqual(view["result"]["status"], "internal_error", view)
        self.assertIn("set aside", view["result"]["error"])
        self.assertIn(job_id, self.redis.cli("XRANGE", "sandpool:dead", "-", "+"))
        self.settled()

    def test_redis_down_then_back(self):
        """Redis stopped: 503 at once. A new, empty Redis: the nodes find
        it by themselves, and what a node's client watched is written
        there again (its user's jobs stream to it)."""
        async def go():
            async with connect(self.api[1], extra_headers=AUTH) as ws:
                c = Client(ws)
                await c.send(type="subscribe", userId="phoenix")
                await c.until("subscribed")
                await asyncio.get_running_loop().run_in_executor(None, self._redis_again)
                deadline = time.monotonic() + 5
                while not self.redis.cli("--scan", "--pattern", "sandpool:watch:u:*:phoenix"):
                    self.assertLess(time.monotonic(), deadline, "the watch was not written again")
                    await asyncio.sleep(0.1)
                submit = threading.Thread(target=lambda: self.post(
                    self.api[0], "/api/v1/run",
                    {"language": "python", "code": "print('risen')", "userId": "phoenix"}))
                submit.start()
                seen = await c.until("result")
                submit.join(60)
                self.assertIn("risen\n", [e.get("data") for e in seen if e["type"] == "stdout"])
        run(go())

    def _redis_again(self):
        self.redis.stop()
        try:
            start = time.monotonic()
            status, r, headers = self.post(self.api[0], "/api/v1/run", SEED)
            self.assertEqual((status, r["error"]["code"]), (503, "queue_unavailable"), r)
            self.assertLess(time.monotonic() - start, 10)
            self.assertEqual(headers["Retry-After"], "1")
        finally:
            type(self).redis = Redis(self.redis.port)
        deadline = time.monotonic() + 60
        while True:
            status, r, _ = self.post(self.api[1], "/api/v1/run", SEED)
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual((status, r.get("stdout")), (200, "Hello World!\n"), r)

    def _newest_job_id(self, stream, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.redis.cli("XREVRANGE", stream, "+", "-", "COUNT", "1")
            lines = out.split("\n")
            if "id" in lines:
                return lines[lines.index("id") + 1]
            time.sleep(0.02)
        raise AssertionError("no job reached the stream")


class _Authed:
    """A node whose GETs carry the token (for wait_state)."""

    def __init__(self, node):
        self.node = node

    def request(self, method, path, body=None, headers=None):
        return self.node.request(method, path, body, headers={**(headers or {}), **AUTH})


def ip(*args, netns=None):
    cmd = ["ip", *args] if netns is None else ["ip", "netns", "exec", netns, "ip", *args]
    subprocess.run(cmd, check=True, capture_output=True)


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("ip"),
                     "network namespaces joined by veth pairs need root and iproute2")
class Netns(unittest.TestCase):
    """A small network inside this machine: each worker in a network
    namespace of its own, joined to the host, where Redis listens, by a
    veth pair; the API node on the host. Nothing depends on loopback."""

    @classmethod
    def setUpClass(cls):
        tag = f"{os.getpid() % 10000}"
        cls.spaces, cls.links = [], []
        hosts = []
        try:
            for n in (1, 2):
                space, outer = f"spw{n}-{tag}", f"spv{n}-{tag}"
                subnet = f"10.{77 + n}.{os.getpid() % 250}"
                ip("netns", "add", space)
                cls.spaces.append(space)
                ip("link", "add", outer, "type", "veth", "peer", "name", "eth0", "netns", space)
                cls.links.append(outer)
                ip("addr", "add", f"{subnet}.1/24", "dev", outer)
                ip("link", "set", outer, "up")
                ip("addr", "add", f"{subnet}.2/24", "dev", "eth0", netns=space)
                ip("link", "set", "eth0", "up", netns=space)
                ip("link", "set", "lo", "up", netns=space)
                hosts.append(subnet)
            cls.redis = Redis(bind=["127.0.0.1"] + [f"{h}.1" for h in hosts])
            cls.api = Server({"pool_total": 0, "tokens": [TOKEN]}, ["--queue", cls.redis.url])
            cls.workers = []
            for space, subnet in zip(cls.spaces, hosts):
                # listening on its own network's address, seen from the host
                url = cls.redis.url.replace("127.0.0.1", f"{subnet}.1")
                cls.workers.append(Server(
                    {"pool_total": 2, "pool_sizes": {"python": 2}, "tokens": [TOKEN]},
                    ["--queue", url], command="worker", netns=space, host=f"{subnet}.2"))
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for node in getattr(cls, "workers", []) + [getattr(cls, "api", None)]:
            if node is not None and node.proc.poll() is None:
                node.stop()
        if getattr(cls, "redis", None) is not None:
            cls.redis.stop()
        for link in cls.links:
            subprocess.run(["ip", "link", "del", link], capture_output=True)
        for space in cls.spaces:
            subprocess.run(["ip", "netns", "del", space], capture_output=True)

    def test_workers_in_their_own_networks_answer(self):
        seen = set()
        for i in range(8):
            status, r, _ = self.api.run({"language": "python", "userId": f"n{i}",
                                         "code": "import time; time.sleep(0.3); print('far')"},
                                        headers=AUTH)
            self.assertEqual((status, r["stdout"]), (200, "far\n"), r)
            seen.add(self.redis.cli("HGET", f"sandpool:job:{r['id']}", "worker"))
        clients = self.redis.cli("CLIENT", "LIST")
        for w in self.workers:
            self.assertIn(f"-{w.proc.pid}", " ".join(seen) + " ")
        for subnet in {c.split("addr=")[1].split(":")[0] for c in clients.splitlines()
                       if "addr=10." in c}:
            self.assertTrue(subnet.endswith(".2"), subnet)
        self.assertTrue(any("addr=10." in c for c in clients.splitlines()), clients)


SUM_SLOWLY_C = r"""#include <stdio.h>
#include <unistd.h>
int main(void)
{
	long a, b, ms;
	if (scanf("%ld %ld %ld", &a, &b, &ms) != 3)
		return 3;
	usleep(ms * 1000);
	printf("%ld\n", a + b);
	return 0;
}
"""

SUM_CHECKER_PY = r"""import sys
_, inp, out, ans = sys.argv
a, b, _ = open(inp).read().split()
got = open(out).read().split()
if got == [str(int(a) + int(b))] and open(ans).read().split() == got:
    sys.exit(0)
print(f"{a} + {b} is not {got}", file=sys.stderr)
sys.exit(1)
"""


def wait_shared(redis, job_id, timeout=30):
    """Until the judge job JOB_ID has shared its tests in REDIS."""
    deadline = time.monotonic() + timeout
    while not redis.cli("HGET", f"sandpool:share:{job_id}", "tests"):
        if time.monotonic() > deadline:
            raise AssertionError(f"the judge {job_id} shared no tests")
        time.sleep(0.05)


def sum_tests(count, ms, wrong=()):
    """COUNT tests of SUM_SLOWLY_C, each sleeping MS; those of WRONG expect
    a wrong sum."""
    return [{"name": f"t{i}", "stdin": f"{i} {i} {ms}\n",
             "expected": f"{2 * i + (1 if i in wrong else 0)}\n"} for i in range(count)]


class JudgeSpread(unittest.TestCase):
    """A judge request's tests run on the cells of several workers at once:
    the worker that takes it builds the program once and stores it in Redis
    with its test count; helper parts queued in the user's stream let other
    workers take tests one by one. A helper killed in the middle loses no
    test: its claims lapse and the job's own worker runs them."""

    @classmethod
    def setUpClass(cls):
        cls.redis = Redis()
        cls.api = api_node(cls.redis)
        cls.workers = [cls.worker(cls.redis), cls.worker(cls.redis)]

    @staticmethod
    def worker(redis):
        return Server({"pool_total": 0, "pool_sizes": {"c": 2, "python": 1},
                       "queue_lease_s": LEASE_S, "tokens": [TOKEN]},
                      ["--queue", redis.url], command="worker")

    @classmethod
    def tearDownClass(cls):
        for node in [cls.api] + cls.workers:
            if node.proc.poll() is None:
                node.stop()
        cls.redis.stop()

    def c_tests_by_worker(self):
        """Tests of C each worker ran (not skipped), by its /metrics."""
        counts = []
        for w in self.workers:
            req = urllib.request.Request(w.url + "/metrics", headers=AUTH)
            with urllib.request.urlopen(req, timeout=30) as resp:
                text = resp.read().decode()
            counts.append(sum(int(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                              if line.startswith('sandpool_judge_tests_total{language="c"')
                              and 'verdict="skipped"' not in line))
        return counts

    def judge(self, body):
        status, answer, _ = self.api.request(
            "POST", "/api/v1/run", {"language": "c", "mode": "judge", "code": SUM_SLOWLY_C,
                                    "limits": {"wall_ms": 3000}, **body}, headers=AUTH)
        self.assertEqual(status, 200, answer)
        return answer

    def no_share_left(self):
        deadline = time.monotonic() + 10
        while self.redis.cli("--scan", "--pattern", "sandpool:share:*"):
            self.assertLess(time.monotonic(), deadline, "a share stayed in Redis")
            time.sleep(0.1)

    def test_tests_run_on_every_worker_and_answer_as_one(self):
        before = self.c_tests_by_worker()
        answer = self.judge({"tests": sum_tests(12, 300, wrong={7}),
                             "checker": {"language": "python", "code": SUM_CHECKER_PY}})
        ran = [a - b for a, b in zip(self.c_tests_by_worker(), before)]
        self.assertEqual((answer["status"], answer["verdict"]), ("ok", "wrong_answer"), answer)
        self.assertEqual(answer["summary"]["first_failure"], "t7")
        self.assertEqual([t["index"] for t in answer["tests"]], list(range(12)))
        self.assertEqual([t["verdict"] for t in answer["tests"]],
                         ["wrong_answer" if i == 7 else "accepted" for i in range(12)])
        self.assertEqual(answer["tests"][3]["stdout"], "6\n")
        self.assertIn("7 + 7", answer["tests"][7]["message"])
        self.assertEqual((answer["summary"]["passed"], answer["summary"]["failed"]), (11, 1))
        self.assertGreaterEqual(answer["summary"]["max_wall_ms"], 300)
        self.assertGreaterEqual(sum(ran), 12, ran)
        self.assertTrue(all(n > 0 for n in ran), f"tests per worker: {ran}")
        print(f"tests per worker: {ran}")
        self.no_share_left()

    def test_a_failure_stops_the_tests_of_every_worker(self):
        answer = self.judge({"tests": sum_tests(16, 400, wrong={0}),
                             "stop_on_first_failure": True})
        verdicts = [t["verdict"] for t in answer["tests"]]
        self.assertEqual((answer["verdict"], verdicts[0]), ("wrong_answer", "wrong_answer"))
        self.assertIn("skipped", verdicts)
        self.assertEqual(set(verdicts[1:]) - {"accepted", "skipped"}, set(), verdicts)
        self.no_share_left()

    def test_every_test_event_reaches_a_watcher(self):
        async def go():
            async with connect(self.api, extra_headers=AUTH) as ws:
                c = Client(ws)
                await c.send(type="subscribe", userId="grace")
                await c.until("subscribed")
                done = threading.Event()
                threading.Thread(target=lambda: (self.judge(
                    {"tests": sum_tests(8, 200), "userId": "grace"}), done.set())).start()
                seen = await c.until("result")
                tests = sorted(e["index"] for e in seen if e["type"] == "test")
                self.assertEqual(tests, list(range(8)), seen)
                self.assertEqual(seen[-1]["result"]["verdict"], "accepted")
                self.assertTrue(done.wait(60))
        run(go())

    def test_a_helper_killed_midway_loses_no_test(self):
        status, view, _ = self.api.request(
            "POST", "/api/v1/jobs", {"language": "c", "mode": "judge", "code": SUM_SLOWLY_C,
                                     "limits": {"wall_ms": 3000},
                                     "tests": sum_tests(10, 1000)}, headers=AUTH)
        self.assertEqual(status, 202, view)
        wait_shared(self.redis, view["id"])
        coordinator = self.redis.cli("HGET", f"sandpool:job:{view['id']}", "worker")
        helper = next(w for w in self.workers
                      if not coordinator.endswith(f"-{w.proc.pid}"))
        time.sleep(1.5)  # the helper holds a test or two now
        helper.proc.kill()
        helper.proc.wait()
        helper.log.close()
        self.workers.remove(helper)
        self.workers.append(self.worker(self.redis))
        status, job = wait_state(_Authed(self.api), view["id"], ("done",), timeout=120)
        answer = job["result"]
        self.assertEqual(answer["verdict"], "accepted", answer)
        self.assertEqual([t["stdout"] for t in answer["tests"]],
                         [f"{2 * i}\n" for i in range(10)])
        self.no_share_left()

    def test_cancel_reaches_the_helpers(self):
        status, view, _ = self.api.request(
            "POST", "/api/v1/jobs", {"language": "c", "mode": "judge", "code": SUM_SLOWLY_C,
                                     "limits": {"wall_ms": 3000},
                                     "tests": sum_tests(40, 1000)}, headers=AUTH)
        self.assertEqual(status, 202, view)
        wait_shared(self.redis, view["id"])
        time.sleep(1)
        before = self.c_tests_by_worker()
        status, _, _ = self.api.request("DELETE", f"/api/v1/jobs/{view['id']}", headers=AUTH)
        self.assertEqual(status, 200)
        status, job = wait_state(_Authed(self.api), view["id"], ("done",), timeout=60)
        self.assertEqual(job["result"]["status"], "cancelled", job)
        time.sleep(1.5)
        ran = [a - b for a, b in zip(self.c_tests_by_worker(), before)]
        # what ran when the cancel came ends, and no more is taken
        self.assertLessEqual(sum(ran), 8, ran)
        self.no_share_left()


class RedisKilledUnderLoad(unittest.TestCase):
    """Redis killed (SIGKILL) in the middle of a load and started again on
    its data: every client gets one answer, right or 503, none hangs; the
    jobs whose worker could not write their result run again."""

    def test_every_client_is_answered(self):
        redis = Redis(durable_in=tempfile.mkdtemp(prefix="sandpool-redis-"))
        nodes = []
        try:
            nodes = [api_node(redis), worker_node(redis), worker_node(redis)]
            answers, threads = [], []
            body = {"language": "python", "code": SLEEPER.format(s=1.5)}
            for _ in range(8):
                threads.append(threading.Thread(
                    target=lambda: answers.append(self.post(nodes[0], body))))
                threads[-1].start()
            time.sleep(0.8)
            redis.kill()
            time.sleep(0.3)
            redis = Redis(redis.port, durable_in=redis.dir)
            for t in threads:
                t.join(120)
            self.assertEqual(len(answers), 8)
            for status, r, _ in answers:
                if status == 200:
                    self.assertEqual(r["stdout"], "start\nend\n", r)
                else:
                    self.assertEqual((status, r["error"]["code"]), (503, "queue_unavailable"), r)
            self.assertGreater(sum(1 for a in answers if a[0] == 200), 0, answers)
            print(f"answers after a Redis kill: {sorted(a[0] for a in answers)}")
            status, r, _ = self.post(nodes[0], SEED)
            self.assertEqual((status, r["stdout"]), (200, "Hello World!\n"), r)
        finally:
            for node in nodes:
                node.stop()
            redis.stop()

    def post(self, node, body):
        return node.request("POST", "/api/v1/run", body, headers=AUTH)


class RedisLoading(unittest.TestCase):
    """A Redis started again on its files answers LOADING until it has read
    them: the API says 503 queue_unavailable with Retry-After meanwhile, as
    for a Redis that is down, and runs jobs again once it has loaded."""

    def test_a_loading_redis_is_unavailable_not_an_error(self):
        redis = Redis(durable_in=tempfile.mkdtemp(prefix="sandpool-redis-"))
        nodes = []
        try:
            # enough data to take a while to load
            redis.cli("DEBUG", "POPULATE", "1500000", "filler:", "64")
            redis.cli("BGREWRITEAOF")
            while "aof_rewrite_in_progress:1" in redis.cli("INFO", "persistence") or \
                    "aof_rewrite_scheduled:1" in redis.cli("INFO", "persistence"):
                time.sleep(0.1)
            nodes = [api_node(redis), worker_node(redis)]
            redis.kill()
            redis = Redis(redis.port, durable_in=redis.dir, ready=False)
            seen = []
            while redis.cli("PING").startswith("LOADING"):
                status, r, headers = nodes[0].request(
                    "POST", "/api/v1/run", {"language": "python", "code": "print(1)"},
                    headers=AUTH)
                seen.append(status)
                if status != 200:
                    self.assertEqual((status, r["error"]["code"]), (503, "queue_unavailable"),
                                     r)
                    self.assertTrue(headers["Retry-After"], headers)
            self.assertIn(503, seen, "Redis loaded before a request came")
            deadline = time.monotonic() + 60
            while True:
                status, r, _ = nodes[0].request(
                    "POST", "/api/v1/run", {"language": "python", "code": "print(2)"},
                    headers=AUTH)
                if status == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            self.assertEqual((status, r["stdout"]), (200, "2\n"), r)
        finally:
            for node in nodes:
                node.stop()
            redis.stop()


class WorkerStartsWithJobsWaiting(unittest.TestCase):
    """A worker node that finds jobs waiting when it starts runs them: its
    first job may start before the node has finished starting."""

    def test_a_new_worker_takes_waiting_jobs_and_helper_parts(self):
        redis = Redis()
        nodes = []
        try:
            nodes = [api_node(redis), JudgeSpread.worker(redis)]
            # the first worker's two C cells busy: a run, and the judge
            status, busy, _ = nodes[0].request(
                "POST", "/api/v1/jobs", {"language": "c", "code": SUM_SLOWLY_C,
                                         "stdin": "1 1 3000"}, headers=AUTH)
            self.assertEqual(status, 202, busy)
            status, judge, _ = nodes[0].request(
                "POST", "/api/v1/jobs", {"language": "c", "mode": "judge", "code": SUM_SLOWLY_C,
                                         "tests": sum_tests(12, 300)}, headers=AUTH)
            self.assertEqual(status, 202, judge)
            ids = []
            for i in range(4):
                status, view, _ = nodes[0].request(
                    "POST", "/api/v1/jobs",
                    {"language": "python", "code": f"import time\ntime.sleep(0.3)\nprint({i})"},
                    headers=AUTH)
                self.assertEqual(status, 202, view)
                ids.append(view["id"])
            wait_shared(redis, judge["id"])
            nodes.append(JudgeSpread.worker(redis))  # helper parts wait for it
            for i, job_id in enumerate(ids):
                status, job = wait_state(_Authed(nodes[0]), job_id, ("done",))
                self.assertEqual(job["result"]["stdout"], f"{i}\n", job)
            status, job = wait_state(_Authed(nodes[0]), judge["id"], ("done",))
            self.assertEqual(job["result"]["verdict"], "accepted", job)
            status, job = wait_state(_Authed(nodes[0]), busy["id"], ("done",))
            self.assertEqual(job["result"]["stdout"], "2\n", job)
            for node in nodes[1:]:
                self.assertIsNone(node.proc.poll(), node.output())
        finally:
            for node in nodes:
                if node.proc.poll() is None:
                    node.stop()
            redis.stop()


class Limits(unittest.TestCase):
    """Per-user limits hold across API nodes: they are counted in Redis."""

    def test_user_in_flight_across_api_nodes(self):
        redis = Redis()
        config = {"pool_total": 0, "user_in_flight": 1, "tokens": [TOKEN]}
        nodes = []
        try:
            nodes = [Server(config, ["--queue", redis.url]), Server(config, ["--queue", redis.url]),
                     worker_node(redis)]
            status, view, _ = nodes[0].request(
                "POST", "/api/v1/jobs", {"language": "python", "userId": "ada",
                                         "code": SLEEPER.format(s=2)}, headers=AUTH)
            self.assertEqual(status, 202, view)
            status, refused, headers = nodes[1].request(
                "POST", "/api/v1/run", {"language": "python", "userId": "ada",
                                        "code": "print(1)"}, headers=AUTH)
            self.assertEqual((status, refused["error"]["code"]), (429, "user_limit"), refused)
            status, other, _ = nodes[1].request(
                "POST", "/api/v1/run", {"language": "python", "userId": "bob",
                                        "code": "print(1)"}, headers=AUTH)
            self.assertEqual((status, other["stdout"]), (200, "1\n"), other)
            wait_state(_Authed(nodes[0]), view["id"], ("done",))
            status, again, _ = nodes[1].request(
                "POST", "/api/v1/run", {"language": "python", "userId": "ada",
                                        "code": "print(2)"}, headers=AUTH)
            self.assertEqual((status, again["stdout"]), (200, "2\n"), again)
        finally:
            for node in nodes:
                node.stop()
            redis.stop()


class Auth(unittest.TestCase):
    def test_bad_command_lines(self):
        bin_ = os.environ.get("SANDPOOL_BIN", "./sandpool")
        for args, says in ((["worker"], "--queue URL is needed"),
                           (["worker", "--queue", "http://h:1"], "want redis://"),
                           (["serve", "--queue", "redis://h:0"], "port"),
                           (["worker", "--queue", "redis://:p%zz@h"], "escape")):
            proc = subprocess.run([bin_, *args], capture_output=True, text=True, timeout=60)
            self.assertEqual(proc.returncode, 2, (args, proc.stderr))
            self.assertIn(says, proc.stderr, args)

    def test_a_node_that_cannot_log_in_says_so(self):
        redis = Redis()
        try:
            url = f"redis://:wrong@127.0.0.1:{redis.port}"
            proc = subprocess.run([os.environ.get("SANDPOOL_BIN", "./sandpool"), "worker",
                                   "--queue", url], capture_output=True, text=True, timeout=60)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertIn("AUTH", proc.stderr)
            self.assertNotIn("wrong", proc.stderr.replace("WRONGPASS", ""))
        finally:
            redis.stop()

    def test_an_acl_user_with_only_sandpools_keys_works(self):
        redis = Redis()
        node = None
        try:
            redis.cli("ACL", "SETUSER", "judge", "on", ">judge-pass", "~sandpool:*",
                      "&sandpool:*", "+@all", "-@dangerous")
            url = f"redis://judge:judge-pass@127.0.0.1:{redis.port}"
            node = Server({"pool_total": 0, "pool_sizes": {"python": 1}}, ["--queue", url])
            status, r, _ = node.run(SEED)
            self.assertEqual((status, r["stdout"]), (200, "Hello World!\n"), r)
            self.assertIn("user=judge", redis.cli("CLIENT", "LIST"))
        finally:
            if node is not None:
                node.stop()
            redis.stop()


if __name__ == "__main__":
    unittest.main()

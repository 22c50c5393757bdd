"""What one client may hold of the server: its memory (memory_max_mb) and its
HTTP threads (http_address_percent, http_token_percent), against a real
`sandpool serve`.

The server's memory is its peak RSS (VmHWM) and what its memfds hold (the
inputs of queued jobs it keeps in memory): both must stay under
memory_max_mb, whatever was sent. Clients of several addresses are sockets
bound to 127.0.0.2, 127.0.0.3... (all of 127/8 is loopback).
"""

import json
import os
import socket
import threading
import time
import unittest

from test_server import TOKEN, Server, proc_status
from test_ws import Raw

MIB = 1 << 20
PYTHON_LEN = "import sys; print(len(sys.stdin.buffer.read()))"


def memfd_bytes(pid):
    """What the memfds open in process PID hold."""
    total = 0
    folder = f"/proc/{pid}/fd"
    for fd in os.listdir(folder):
        path = os.path.join(folder, fd)
        try:
            if os.readlink(path).startswith("/memfd:"):
                total += os.stat(path).st_blocks * 512
        except OSError:
            pass
    return total


class Sampler:
    """The most the server held at once while it runs, in bytes: its RSS and
    its memfds, read together every 20 ms; and its peak RSS (VmHWM)."""

    def __init__(self, pid):
        self.pid, self.most = pid, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.sample)

    def sample(self):
        while True:
            now = proc_status(self.pid, "VmRSS") * 1024 + memfd_bytes(self.pid)
            self.most = max(self.most, now)
            if self.stop.wait(0.02):
                return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.hwm = proc_status(self.pid, "VmHWM") * 1024


def connect_from(server, address, timeout=30):
    sock = socket.socket()
    sock.settimeout(timeout)
    sock.bind((address, 0))
    sock.connect(("127.0.0.1", server.port))
    return sock


def answer_of(sock):
    """Read SOCK to its end: (status, headers as a dict, parsed JSON body)."""
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")]
            if length and len(body) >= length[0]:
                break
    except ConnectionResetError:
        pass
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, json.loads(body) if body else None


def answer_of_bytes(sock, data):
    """The answer whose first bytes are DATA, the rest on SOCK."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    while len(body) < int(headers.get("Content-Length", 0)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, json.loads(body) if body else None


def ask(server, address, request, timeout=30):
    """REQUEST (bytes) on a new connection from ADDRESS: its answer."""
    with connect_from(server, address, timeout) as sock:
        sock.sendall(request)
        return answer_of(sock)


def post_job(server, body, headers=""):
    data = json.dumps(body).encode()
    head = (f"POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}"
            f"Content-Length: {len(data)}\r\n\r\n").encode()
    return ask(server, "127.0.0.1", head + data, timeout=120)


def drip(socks, stop, pause=0.5):
    """A body that never ends: a byte on each of SOCKS every PAUSE s."""
    while not stop.wait(pause):
        for sock in socks:
            try:
                sock.send(b" ")
            except OSError:
                pass


def wait_done(server, job_id, deadline):
    while time.monotonic() < deadline:
        status, view, _ = server.request("GET", f"/api/v1/jobs/{job_id}")
        if status != 200 or view["state"] == "done":
            return status, view
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not end")


class Memory(unittest.TestCase):
    """One python cell kept busy, then jobs queued through /api/v1/jobs: the
    issue's case (20 jobs of 50 MB stdin took the server from 7 MB to 1.46 GB
    RSS), smaller, and then inputs kept in memory until the bound."""

    LIMIT_MB = 160

    @classmethod
    def setUpClass(cls):
        cls.server = Server({"pool_total": 0, "pool_sizes": {"python": 1}, "threads": 32,
                             "max_body": 40 * MIB, "queue_timeout_s": 600,
                             "memory_max_mb": cls.LIMIT_MB, "memory_share_percent": 100,
                             "ws_max_frame": 8 * MIB})
        cls.pid = cls.server.proc.pid

    @classmethod
    def tearDownClass(cls):
        cls.assertEqual = unittest.TestCase.assertEqual
        assert cls.server.stop() == 0

    def busy(self):
        """The python cell, busy until cancelled: its job's id."""
        status, _, view = post_job(self.server, {
            "language": "python", "code": "import time; time.sleep(100)",
            "limits": {"wall_ms": 120000, "cpu_ms": 1000}})
        self.assertEqual(status, 202, view)
        deadline = time.monotonic() + 60
        while self.server.request("GET", f"/api/v1/jobs/{view['id']}")[1]["state"] != "running":
            self.assertLess(time.monotonic(), deadline, "the busy job did not start")
            time.sleep(0.1)
        return view["id"]

    def release(self, busy):
        self.server.request("DELETE", f"/api/v1/jobs/{busy}")

    def held(self):
        return self.server.request("GET", "/healthz")[1]["memory"]

    def assert_within(self, what, sampler):
        print(f"\n  {what}: at most {sampler.most / MIB:.1f} MiB of RSS and memfds, VmHWM "
              f"{sampler.hwm / MIB:.1f} MiB; memory_max_mb {self.LIMIT_MB}")
        self.assertLess(sampler.most, self.LIMIT_MB * MIB)
        self.assertLess(sampler.hwm, self.LIMIT_MB * MIB)

    def run_all(self, jobs, size):
        deadline = time.monotonic() + 300
        for job_id in jobs:
            status, view = wait_done(self.server, job_id, deadline)
            self.assertEqual(status, 200, view)
            self.assertEqual((view["result"]["status"], view["result"]["stdout"]),
                             ("ok", f"{size}\n"), view["result"])

    def test_large_inputs_stay_out_of_memory(self):
        """10 jobs of 32 MiB stdin (320 MiB queued, twice the figure): they go
        into files, the server's memory stays under memory_max_mb, and each
        runs and reads its whole input afterwards."""
        size = 32 * MIB
        busy = self.busy()
        jobs = []
        with Sampler(self.pid) as sampler:
            self.queue_large(busy, jobs, size)
            self.run_all(jobs, size)
        self.assert_within("10 jobs of 32 MiB queued, then run", sampler)

    def queue_large(self, busy, jobs, size):
        try:
            for _ in range(10):
                status, headers, view = post_job(self.server, {
                    "language": "python", "code": PYTHON_LEN, "stdin": "x" * size})
                self.assertEqual(status, 202, view)
                jobs.append(view["id"])
            held = self.held()
            self.assertEqual(held["by"]["queued"], held["held"] - held["by"]["running"]
                             - held["by"]["kept"] - held["by"]["bodies"])
            self.assertLess(held["by"]["queued"], 10 * MIB, held)
        finally:
            self.release(busy)

    @unittest.skipIf(os.environ.get("SANDPOOL_TEST_QUEUE") == "redis",
                     "with the queue in Redis, queued jobs are Redis' to hold, not the node's")
    def test_inputs_in_memory_until_the_bound(self):
        """Jobs of 1,000,000 bytes of stdin (kept in memfds) until the server
        holds what memory_max_mb leaves for requests: 429 memory_full, with
        Retry-After and a JSON error; the memory stays under the figure, and
        every job queued runs afterwards."""
        size = 1000000
        busy = self.busy()
        jobs = []
        with Sampler(self.pid) as sampler:
            self.queue_until_refused(busy, jobs, size)
            self.run_all(jobs, size)
        self.assertEqual(self.held()["by"]["queued"], 0)
        self.assert_within(f"{len(jobs)} jobs of 1 MB queued in memory, then run", sampler)

    def queue_until_refused(self, busy, jobs, size):
        refused = None
        try:
            for _ in range(400):
                status, headers, view = post_job(self.server, {
                    "language": "python", "code": PYTHON_LEN, "stdin": "y" * size})
                if status != 202:
                    refused = (status, headers, view)
                    break
                jobs.append(view["id"])
            self.assertIsNotNone(refused, "400 jobs of 1 MB queued: no bound")
            status, headers, view = refused
            self.assertEqual((status, view["error"]["code"]), (429, "memory_full"), view)
            self.assertIn("memory_max_mb", view["error"]["message"])
            self.assertEqual(headers.get("Retry-After"), "1")
            held = self.held()
            self.assertLessEqual(held["held"], held["requests_max"])
            self.assertLessEqual(held["peak"], held["requests_max"])
            self.assertGreater(held["by"]["queued"], len(jobs) * size)
            print(f"\n  {len(jobs)} jobs queued, then {status} {view['error']['code']}")
            status, health, _ = self.server.request("GET", "/healthz")
            self.assertEqual(status, 200)
        finally:
            self.release(busy)

    def test_a_body_of_many_values_is_refused_before_it_is_built(self):
        """A body of 8 MiB of "{}," took jansson 650 MiB: refused with 413."""
        data = b'{"language": "python", "code": "print(1)", "x": [' + b"{}," * (
            8 * MIB // 3) + b"{}]}"
        head = (f"POST /api/v1/run HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                f"Content-Length: {len(data)}\r\n\r\n").encode()
        with Sampler(self.pid) as sampler:
            status, _, view = ask(self.server, "127.0.0.1", head + data, timeout=120)
        self.assertEqual((status, view["error"]["code"]), (413, "body_too_large"), view)
        self.assertIn("JSON values", view["error"]["message"])
        self.assert_within("a body of 2.8 million values", sampler)


    def test_a_websocket_message_of_many_values_is_refused_before_it_is_built(self):
        """The same over the WebSocket: a message of 6 MiB of "{}," (ws_max_frame
        8 MiB here) is refused as a body is, and is never built either."""
        data = b'{"type": "run", "ref": "v", "language": "python", "code": "print(1)", "x": [' + (
            b"{}," * (6 * MIB // 3)) + b"{}]}"
        with Sampler(self.pid) as sampler:
            ws = Raw(self.server)
            ws.send(0x81, data)
            event = ws.event()
        self.assert_within("a WebSocket message of 2 million values", sampler)
        self.assertEqual((event["type"], event["code"]), ("error", "body_too_large"), event)
        self.assertIn("JSON values", event["message"])
        ws.text({"type": "run", "ref": "after", "language": "python", "code": "print(2)"})
        while event.get("type") != "result":
            event = ws.event()
        self.assertEqual((event["ref"], event["result"]["stdout"]), ("after", "2\n"), event)

    def test_a_websocket_job_that_could_never_fit_is_told_why(self):
        """A run whose output limits could never fit in memory_max_mb gets the
        error event job_too_large over the WebSocket, as it gets 413 over HTTP."""
        ws = Raw(self.server)
        ws.text({"type": "run", "ref": "big", "language": "python", "code": "print(1)",
                 "limits": {"output_kb": 64 * 1024}})
        event = ws.event()
        self.assertEqual((event["type"], event["code"], event["ref"]),
                         ("error", "job_too_large", "big"), event)
        self.assertIn("more than this server holds", event["message"])
        status, view, _ = self.server.request("POST", "/api/v1/run", {
            "language": "python", "code": "print(1)", "limits": {"output_kb": 64 * 1024}})
        self.assertEqual((status, view["error"]["code"]), (413, "job_too_large"), view)

class PerAddress(unittest.TestCase):
    """http_address_percent 25 of 16 threads: 4 connections per address."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server({"pool_total": 0, "pool_sizes": {"bash": 1}, "threads": 16,
                             "http_address_percent": 25})

    @classmethod
    def tearDownClass(cls):
        cls.assertEqual = unittest.TestCase.assertEqual
        assert cls.server.stop() == 0

    def test_slow_bodies_hold_only_their_address_slots(self):
        """16 connections from 127.0.0.2 drip a body a byte at a time (on the
        old server: every thread). 4 are served (and drip on), the others are
        answered at once with 429 address_limit; 127.0.0.3 runs a job and
        /healthz answers all the while; once they close, 127.0.0.2 is served
        again."""
        socks, stop = [], threading.Event()
        dripper = threading.Thread(target=drip, args=(socks, stop))
        refused = []
        try:
            for _ in range(16):
                sock = connect_from(self.server, "127.0.0.2")
                sock.sendall(b"POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Length: 100000\r\n\r\n{")
                socks.append(sock)
            dripper.start()
            for sock in socks:
                sock.settimeout(2)
                try:
                    refused.append(answer_of(sock))
                except socket.timeout:
                    pass  # served: its body goes on
            self.assertEqual(len(refused), 12, refused)
            for status, headers, view in refused:
                self.assertEqual((status, view["error"]["code"]), (429, "address_limit"))
                self.assertEqual(headers["Retry-After"], "1")
                self.assertEqual(headers["Connection"], "close")
            run = json.dumps({"language": "bash", "code": "echo hi"}).encode()
            status, _, view = ask(self.server, "127.0.0.3",
                                  b"POST /api/v1/run HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                  + f"Content-Length: {len(run)}\r\n\r\n".encode() + run)
            self.assertEqual((status, view["stdout"]), (200, "hi\n"), view)
            status, health, _ = self.server.request("GET", "/healthz")
            self.assertEqual(status, 200)
            self.assertGreaterEqual(health["http"]["open"], 5)
            self.assertEqual(health["http"]["per_address_max"], 4)
            self.assertGreaterEqual(health["http"]["refused"]["address_limit"], 12)
            status, _, view = ask(self.server, "127.0.0.2",
                                  b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual((status, view["error"]["code"]), (429, "address_limit"))
        finally:
            stop.set()
            if dripper.is_alive():
                dripper.join(30)
            for sock in socks:
                sock.close()
        deadline = time.monotonic() + 30
        while self.server.request("GET", "/healthz")[1]["http"]["open"] > 1:
            self.assertLess(time.monotonic(), deadline, "connections left open")
            time.sleep(0.1)
        status, _, view = ask(self.server, "127.0.0.2", b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                              b"Connection: close\r\n\r\n")
        self.assertEqual((status, view["status"]), (200, "ok"))


    def test_a_refused_client_reads_its_answer_while_it_sends(self):
        """4 connections from 127.0.0.4 held open; then 20 clients of that
        address each send a request's head, then its body of 256 KiB, as
        python's http.client does, and read: each reads 429 address_limit
        (a socket closed while its client still sent made the client's send
        fail, and it never read the answer: the soak's burst of 256 requests
        from one address lost 383 so)."""
        held = []
        body = b'{"language": "bash", "code": "' + b" " * (256 * 1024) + b'echo hi"}'
        head = (b"POST /api/v1/run HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode())
        failures = []
        try:
            for _ in range(4):
                sock = connect_from(self.server, "127.0.0.4")
                sock.sendall(b"POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Length: 100000\r\n\r\n{")
                held.append(sock)
            deadline = time.monotonic() + 30
            while self.server.request("GET", "/healthz")[1]["http"]["open"] < 5:
                self.assertLess(time.monotonic(), deadline, "the 4 connections did not open")
                time.sleep(0.05)
            clients = [connect_from(self.server, "127.0.0.4") for _ in range(20)]
            for sock in clients:  # all at once, as a burst does
                sock.sendall(head)
            time.sleep(0.02)
            for sock in clients:
                with sock:
                    try:
                        sock.sendall(body)
                        status, headers, view = answer_of(sock)
                        if (status, view["error"]["code"]) != (429, "address_limit"):
                            failures.append((status, view))
                    except (OSError, ValueError, IndexError) as e:
                        failures.append(repr(e))
        finally:
            for sock in held:
                sock.close()
        self.assertEqual(failures, [])

class PerToken(unittest.TestCase):
    """Two tokens, http_token_percent 25 of 8 threads: 2 requests per token."""

    OTHER = "other-token-0123456789abcdef"

    @classmethod
    def setUpClass(cls):
        cls.server = Server({"pool_total": 0, "pool_sizes": {"bash": 1}, "threads": 8,
                             "tokens": [TOKEN, cls.OTHER], "http_token_percent": 25})

    @classmethod
    def tearDownClass(cls):
        cls.assertEqual = unittest.TestCase.assertEqual
        assert cls.server.stop() == 0

    def test_a_token_holds_its_share_of_the_threads(self):
        socks, stop = [], threading.Event()
        dripper = threading.Thread(target=drip, args=(socks, stop))
        auth = f"Authorization: Bearer {TOKEN}\r\n"
        try:
            for _ in range(2):
                sock = connect_from(self.server, "127.0.0.1")
                sock.sendall(f"POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\n{auth}"
                             "Content-Length: 100000\r\n\r\n{".encode())
                socks.append(sock)
            dripper.start()
            deadline = time.monotonic() + 30
            while True:
                status, headers, view = ask(self.server, "127.0.0.1",
                                            f"GET /api/v1/languages HTTP/1.1\r\nHost: x\r\n"
                                            f"{auth}Connection: close\r\n\r\n".encode())
                if status == 429 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)  # the drippers' headers may not be in yet
            self.assertEqual((status, view["error"]["code"]), (429, "token_limit"), view)
            self.assertEqual(headers["Retry-After"], "1")
            status, _, view = ask(self.server, "127.0.0.1",
                                  f"GET /api/v1/languages HTTP/1.1\r\nHost: x\r\nAuthorization: "
                                  f"Bearer {self.OTHER}\r\nConnection: close\r\n\r\n".encode())
            self.assertEqual(status, 200, view)
            status, health, _ = self.server.request("GET", "/healthz")
            self.assertEqual((status, health["http"]["per_token_max"]), (200, 2))
        finally:
            stop.set()
            if dripper.is_alive():
                dripper.join(30)
            for sock in socks:
                sock.close()


class SlowBody(unittest.TestCase):
    def test_a_body_dripped_is_cut(self):
        """A body of 100 bytes sent a byte every 0.5 s (each pause within
        request_timeout_s): once later than request_timeout_s and 16 KiB/s
        (body_min_rate_kb) allow, it is cut: 408 request_timeout. The old
        server read it for as long as it came."""
        server = Server({"pool_total": 0, "pool_sizes": {"bash": 1}, "request_timeout_s": 2})
        try:
            with connect_from(server, "127.0.0.2", timeout=0.5) as sock:
                sock.sendall(b"POST /api/v1/run HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Length: 100\r\n\r\n{")
                data, deadline = b"", time.monotonic() + 60
                while b"\r\n\r\n" not in data and time.monotonic() < deadline:
                    try:
                        chunk = sock.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    except socket.timeout:
                        sock.send(b" ")
                sock.settimeout(10)
                status, headers, view = answer_of_bytes(sock, data)
            self.assertEqual((status, view["error"]["code"]), (408, "request_timeout"), view)
            self.assertIn("body_min_rate_kb", view["error"]["message"])
            self.assertEqual(headers["Connection"], "close")
            status, health, _ = server.request("GET", "/healthz")
            self.assertEqual(health["http"]["refused"]["request_timeout"], 1)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_an_answer_not_taken_is_cut(self):
        """A client that asks for a result of 24 MiB and reads nothing: once
        later than request_timeout_s and body_min_rate_kb (here 4 MiB/s)
        allow, its connection is shut down and its thread free (on the old
        server it held it as long as the client kept the connection)."""
        server = Server({"pool_total": 0, "pool_sizes": {"python": 1}, "request_timeout_s": 2,
                         "body_min_rate_kb": 4096})
        try:
            status, view, _ = server.request("POST", "/api/v1/jobs", {
                "language": "python", "code": "import sys\nsys.stdout.write('z' * (24 << 20))",
                "limits": {"output_kb": 32768}})
            self.assertEqual(status, 202, view)
            status, view = wait_done(server, view["id"], time.monotonic() + 120)
            self.assertEqual(view["result"]["status"], "ok")
            with connect_from(server, "127.0.0.2") as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
                sock.sendall(f"GET /api/v1/jobs/{view['id']} HTTP/1.1\r\nHost: x\r\n\r\n"
                             .encode())
                deadline = time.monotonic() + 60
                while server.request("GET", "/healthz")[1]["http"]["open"] > 1:
                    self.assertLess(time.monotonic(), deadline, "the reader kept its thread")
                    time.sleep(0.2)
                got = 0
                try:
                    while chunk := sock.recv(1 << 20):
                        got += len(chunk)
                except ConnectionResetError:
                    pass
                self.assertLess(got, 24 << 20)
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main()

"""The WebSocket API of `sandpool serve`, with a real WebSocket client
(python3-websockets): streaming order, several runs on one connection,
subscribe by id and by userId, interactive stdin, cancel, disconnect mid-run,
bad frames, tokens, users taking turns in the queue, 2 000 clients at once,
the caps on WebSockets, dead and idle clients."""

import asyncio
import base64
import json
import os
import resource
import socket
import struct
import threading
import time
import unittest
import urllib.error
import urllib.request

import websockets
import websockets.exceptions

from test_server import SEED, TOKEN, Server, wait_state

# Prints "ready", then waits for a line: it cannot end before the client has
# seen its first output and answered, so the order proves the streaming.
ECHO = ("import sys\nprint('ready', flush=True)\nline = sys.stdin.readline()\n"
        "print('got ' + line.strip(), flush=True)\n")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


class Client:
    def __init__(self, ws):
        self.ws = ws

    async def send(self, **msg):
        await self.ws.send(json.dumps(msg))

    async def event(self):
        return json.loads(await self.ws.recv())

    async def until(self, kind, **match):
        """Events up to and including the first of KIND matching MATCH."""
        seen = []
        while True:
            ev = await self.event()
            seen.append(ev)
            if ev["type"] == kind and all(ev.get(k) == v for k, v in match.items()):
                return seen


def connect(server, path="/api/v1/ws", **kw):
    kw.setdefault("max_size", 1 << 24)
    return websockets.connect(server.url.replace("http://", "ws://") + path, **kw)


class Ws(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server({"pool_total": 0, "pool_sizes": {"python": 2, "bash": 1},
                             "ws_max_frame": 4096})

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        assert code == 0, f"sandpool serve exited {code}"

    def test_streaming_order_and_interactive_stdin(self):
        async def go():
            async with connect(self.server) as ws:
                c = Client(ws)
                await c.send(type="run", ref="r1", language="python", code=ECHO,
                             interactive=True)
                seen = await c.until("stdout", data="ready\n")
                self.assertEqual([e["type"] for e in seen], ["queued", "started", "stdout"])
                self.assertEqual(seen[1]["stage"], "run")
                self.assertTrue(all(e["ref"] == "r1" for e in seen))
                job_id = seen[0]["id"]
                await c.send(type="stdin", id=job_id, data="hel")
                await c.send(type="stdin", id=job_id, data="bG8K", encoding="base64")
                rest = await c.until("result")
                out = "".join(e["data"] for e in seen + rest if e["type"] == "stdout")
                self.assertEqual(out, "ready\ngot hello\n")
                result = rest[-1]["result"]
                self.assertEqual((result["status"], result["stdout"]), ("ok", out), result)
                self.assertEqual(rest[-1]["id"], job_id)
        run(go())

    def test_close_stdin_and_compiled_stages(self):
        async def go():
            async with connect(self.server) as ws:
                c = Client(ws)
                await c.send(type="run", ref="cat", language="bash", code="wc -c",
                             stdin="12345", interactive=True)
                queued = await c.until("queued")
                job_id = queued[-1]["id"]
                await c.send(type="stdin", id=job_id, data="678\n")
                await c.send(type="close_stdin", id=job_id)
                seen = await c.until("result", id=job_id)
                self.assertEqual(seen[-1]["result"]["stdout"].strip(), "9")
                await c.send(type="run", ref="c", language="c",
                             code='#include <stdio.h>\nint main(){puts("built");}')
                seen = await c.until("result", ref="c")
                stages = [e["stage"] for e in seen if e["type"] == "started"]
                self.assertEqual(stages, ["compile", "run"])
                self.assertEqual(seen[-1]["result"]["stdout"], "built\n")
        run(go())

    def test_two_runs_on_one_connection(self):
        async def go():
            async with connect(self.server) as ws:
                c = Client(ws)
                await c.send(type="run", ref="one", language="python",
                             code="import time; time.sleep(0.5); print(1)")
                await c.send(type="run", ref="two", language="bash", code="echo 2")
                results = {}
                while len(results) < 2:
                    ev = await c.event()
                    if ev["type"] == "result":
                        results[ev["ref"]] = ev["result"]["stdout"]
                self.assertEqual(results, {"one": "1\n", "two": "2\n"})
        run(go())

    def test_subscribe_by_id_and_by_user(self):
        async def go():
            async with connect(self.server) as ws:
                c = Client(ws)
                # a job submitted over HTTP, watched by id
                status, view, _ = self.server.request(
                    "POST", "/api/v1/jobs",
                    {"language": "python", "code": "import time; time.sleep(1); print('late')"})
                self.assertEqual(status, 202)
                await c.send(type="subscribe", id=view["id"])
                seen = await c.until("result", id=view["id"])
                self.assertEqual(seen[0]["type"], "subscribed")
                self.assertEqual(seen[-1]["result"]["stdout"], "late\n")
                # an ended job: its result at once
                await c.send(type="subscribe", id=view["id"])
                seen = await c.until("result", id=view["id"])
                self.assertEqual(seen[-1]["result"]["stdout"], "late\n")
                # every job of a user, from now on; not another user's
                await c.send(type="subscribe", userId="u-watched")
                await c.until("subscribed")
                results = []
                for user in ("u-other", "u-watched"):
                    thread = threading.Thread(target=lambda u=user: results.append(
                        self.server.run({"language": "bash", "code": f"echo {u}",
                                         "userId": u})))
                    thread.start()
                    thread.join(60)
                seen = await c.until("result")
                self.assertEqual(seen[-1]["result"]["stdout"], "u-watched\n")
                self.assertNotIn("u-other", json.dumps(seen))
                self.assertEqual([e["type"] for e in seen][:2], ["queued", "started"])
        run(go())

    def test_cancel_and_disconnect(self):
        async def go():
            async with connect(self.server) as ws:
                c = Client(ws)
                await c.send(type="run", ref="long", language="python",
                             code="import time\nprint('on', flush=True)\ntime.sleep(60)",
                             limits={"wall_ms": 90000})
                seen = await c.until("stdout")
                await c.send(type="cancel", id=seen[0]["id"])
                seen = await c.until("result")
                self.assertEqual(seen[-1]["result"]["status"], "cancelled", seen[-1])
            # an interactive run dies with its client; the cell comes back
            async with connect(self.server) as ws:
                c = Client(ws)
                await c.send(type="run", language="python", code=ECHO, interactive=True)
                seen = await c.until("stdout")
                job_id = seen[0]["id"]
            return job_id

        job_id = run(go())
        status, h = None, None
        for _ in range(100):
            status, h, _ = self.server.request("GET", "/healthz")
            if h["pool"]["python"]["busy"] == 0 and h["pool"]["python"]["idle"] == 2:
                break
            asyncio.run(asyncio.sleep(0.1))
        self.assertEqual((h["pool"]["python"]["busy"], h["pool"]["python"]["idle"]), (0, 2), h)
        self.assertEqual(h["pool"]["python"]["replaced"], 0, h)
        status, r, _ = self.server.run(SEED)
        self.assertEqual(r["stdout"], "Hello World!\n", r)
        self.assertTrue(job_id)

    def test_bad_frames_leave_the_connection_up(self):
        async def go():
            async with connect(self.server) as ws:
                c = Client(ws)
                cases = [
                    ("not json", "bad_json"),
                    (json.dumps([1, 2]), "bad_json"),
                    (json.dumps({"ref": "x"}), "bad_request"),
                    (json.dumps({"type": "fly"}), "bad_request"),
                    (json.dumps({"type": "stdin", "id": "0" * 32, "data": "x"}), "not_found"),
                    (json.dumps({"type": "cancel", "id": "nope"}), "not_found"),
                    (json.dumps({"type": "subscribe", "id": "0" * 32}), "not_found"),
                    (json.dumps({"type": "run", "language": "no-such-language", "code": "x",
                                 "ref": "q"}), "unknown_language"),
                    (json.dumps({"type": "run", "language": "python", "code": 5}),
                     "bad_request"),
                    (json.dumps({"type": "run", "language": "python",
                                 "code": "x" * 5000}), "frame_too_large"),
                ]
                for frame, code in cases:
                    await ws.send(frame)
                    ev = await c.event()
                    self.assertEqual((ev["type"], ev["code"]), ("error", code), frame[:60])
                    self.assertTrue(ev["message"])
                await c.send(type="run", ref="after", language="bash", code="echo alive")
                seen = await c.until("result")
                self.assertEqual(seen[-1]["result"]["stdout"], "alive\n")
        run(go())


class SlowReader(unittest.TestCase):
    def test_a_client_that_does_not_read_is_cut_off_not_buffered(self):
        server = Server({"pool_total": 0, "pool_sizes": {"python": 1},
                         "ws_max_backlog": 65536})
        flood = ("import sys\nline = 'x' * 1000 + '\\n'\n"
                 "for _ in range(20000):\n    sys.stdout.write(line); sys.stdout.flush()\n")

        async def go():
            async with connect(server, max_queue=1, read_limit=4096,
                               write_limit=4096) as ws:
                c = Client(ws)
                await c.send(type="subscribe", userId="slow")
                await c.until("subscribed")
                # 20 MB for a client that reads nothing: the job and the
                # server go on regardless
                status, r, _ = await asyncio.get_running_loop().run_in_executor(
                    None, lambda: server.run({"language": "python", "code": flood,
                                              "userId": "slow",
                                              "limits": {"output_kb": 32768}}))
                self.assertEqual((status, r["status"]), (200, "ok"), r.get("status"))
                self.assertEqual(len(r["stdout"]), 20000 * 1001)
                # what the client gets: a bounded part, a slow_reader error, the end
                received, codes = 0, []
                try:
                    while True:
                        m = await asyncio.wait_for(ws.recv(), 30)
                        received += len(m)
                        ev = json.loads(m)
                        if ev["type"] == "error":
                            codes.append(ev["code"])
                except websockets.exceptions.ConnectionClosed:
                    pass
                self.assertIn("slow_reader", codes)
                self.assertLess(received, 15 << 20)  # 20 MB and more unbounded
            status, r, _ = server.run(SEED)
            self.assertEqual(r["stdout"], "Hello World!\n", r)

        try:
            run(go())
        finally:
            self.assertEqual(server.stop(), 0)


# Prints N MiB on stdout in lines of 1 KiB.
def flood(mib):
    return ("import sys\nline = 'x' * 1023 + '\\n'\n"
            f"for _ in range({mib} * 1024):\n    sys.stdout.write(line)\n")


class Pings(unittest.TestCase):
    """RFC 6455 §5.5.2: a Ping gets a Pong. python3-websockets pings every
    ping_interval and closes the connection when no Pong comes within
    ping_timeout: a run longer than both must still get its result."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server({"pool_total": 0, "pool_sizes": {"python": 1}})

    @classmethod
    def tearDownClass(cls):
        assert cls.server.stop() == 0

    def test_a_ping_gets_its_pong(self):
        async def go():
            async with connect(self.server, ping_interval=None) as ws:
                for payload in (b"", b"abc", bytes(range(125))):
                    waiter = await ws.ping(payload)
                    await asyncio.wait_for(waiter, 10)
        run(go())

    def test_a_long_run_outlives_the_keepalive(self):
        # the client's default (20 s, 20 s) would need a run of over 40 s
        # to prove the same; 1 s and 2 s prove it in 6 s
        async def go():
            async with connect(self.server, ping_interval=1, ping_timeout=2) as ws:
                c = Client(ws)
                await c.send(type="run", language="python", limits={"wall_ms": 30000},
                             code="import time\nfor i in range(6):\n"
                                  "    time.sleep(1); print(i, flush=True)\n")
                seen = await c.until("result")
                self.assertEqual(seen[-1]["result"]["stdout"], "0\n1\n2\n3\n4\n5\n")
        run(go())


class BigOutput(unittest.TestCase):
    """A client that reads at once gets every event of the largest output
    the limits allow, then its result; one that stalls gets whole frames,
    slow_reader and a clean close, and the server serves others meanwhile."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server({"pool_total": 0, "pool_sizes": {"python": 2, "bash": 1}})

    @classmethod
    def tearDownClass(cls):
        assert cls.server.stop() == 0

    def test_a_fast_reader_gets_everything_and_its_result(self):
        # output_kb 65536 is the default max_limits: 64 MiB, all of it
        async def go():
            async with connect(self.server, max_size=None) as ws:
                c = Client(ws)
                await c.send(type="run", language="python", code=flood(64),
                             limits={"output_kb": 65536, "wall_ms": 60000})
                streamed = 0
                while True:
                    ev = await c.event()
                    if ev["type"] == "stdout":
                        streamed += len(ev["data"])
                    elif ev["type"] == "result":
                        break
                    else:
                        self.assertIn(ev["type"], ("queued", "started"), ev)
                self.assertEqual(streamed, 64 << 20)
                r = ev["result"]
                self.assertEqual((r["status"], len(r["stdout"])), ("ok", 64 << 20),
                                 r["status"])
                self.assertFalse(r["run"]["truncated"])
        run(go())

    def test_a_stalled_client_gets_whole_frames_then_slow_reader(self):
        # 48 MiB for a client that reads nothing for 15 s, longer than the
        # HTTP request timeout (10 s); 16 MiB (ws_max_backlog) wait for it
        async def go():
            async with connect(self.server, max_size=None, max_queue=1, read_limit=4096,
                               write_limit=4096, ping_interval=None) as ws:
                c = Client(ws)
                await c.send(type="run", language="python", code=flood(48), ref="flood",
                             limits={"output_kb": 65536, "wall_ms": 60000})
                # meanwhile the server serves others, over HTTP and WebSocket
                loop = asyncio.get_running_loop()
                status, r, _ = await loop.run_in_executor(None, lambda: self.server.run(SEED))
                self.assertEqual(r["stdout"], "Hello World!\n", r)
                async with connect(self.server) as other:
                    o = Client(other)
                    await o.send(type="run", language="bash", code="echo other")
                    seen = await o.until("result")
                    self.assertEqual(seen[-1]["result"]["stdout"], "other\n")
                await asyncio.sleep(15)
                # every frame parses (python3-websockets fails the connection
                # with 1002 on reserved bits or a bad length), each is JSON
                received, codes, result = 0, [], None
                with self.assertRaises(websockets.exceptions.ConnectionClosed) as closed:
                    while True:
                        m = await asyncio.wait_for(ws.recv(), 60)
                        received += len(m)
                        ev = json.loads(m)
                        if ev["type"] == "error":
                            codes.append(ev["code"])
                        if ev["type"] == "result":
                            result = ev
                self.assertEqual(codes, ["slow_reader"])
                self.assertIsNone(result)
                # ws_max_backlog and the sockets' buffers, not the 48 MiB
                self.assertLess(received, 32 << 20)
                # closed cleanly by the server: its close frame came, with a code
                rcvd = closed.exception.rcvd
                self.assertIsNotNone(rcvd, closed.exception)
                self.assertEqual(rcvd.code, 1008, rcvd)
        run(go())


class Raw:
    """A WebSocket client of a few lines over a plain socket, to send what
    no library sends: unmasked frames, reserved bits, bad control frames."""

    def __init__(self, server, early=b""):
        self.s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(f"GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                       f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                       f"Sec-WebSocket-Version: 13\r\n\r\n".encode() + early)
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            byte = self.s.recv(1)
            assert byte, head
            head += byte
        assert head.startswith(b"HTTP/1.1 101"), head
        self.buf = b""

    @staticmethod
    def frame(first, payload, masked=True):
        n = len(payload)
        head = bytes([first])
        bit = 0x80 if masked else 0
        if n < 126:
            head += bytes([bit | n])
        elif n < 65536:
            head += bytes([bit | 126]) + struct.pack("!H", n)
        else:
            head += bytes([bit | 127]) + struct.pack("!Q", n)
        if not masked:
            return head + payload
        mask = os.urandom(4)
        return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))

    def send(self, first, payload=b"", masked=True):
        self.s.sendall(self.frame(first, payload, masked))

    def text(self, msg):
        self.send(0x81, json.dumps(msg).encode())

    def _need(self, n):
        while len(self.buf) < n:
            more = self.s.recv(65536)
            if not more:
                raise EOFError
            self.buf += more
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read(self):
        """The server's next frame: (opcode, payload); whole, unmasked, FIN."""
        b0, b1 = self._need(2)
        self_check = (b0 & 0x70, b1 & 0x80, b0 & 0x80)
        assert self_check == (0, 0, 0x80), hex(b0)
        n = b1 & 0x7f
        if n == 126:
            n = struct.unpack("!H", self._need(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._need(8))[0]
        return b0 & 0x0f, self._need(n)

    def event(self):
        while True:
            op, payload = self.read()
            if op == 1:
                return json.loads(payload)
            assert op == 0xa, op  # pongs may come between

    def closed_with(self):
        """Read to the server's close: its code; then the server ends the
        connection."""
        while True:
            op, payload = self.read()
            if op == 8:
                code = struct.unpack("!H", payload[:2])[0] if payload else 1005
                self.s.settimeout(10)
                self.buf = b""
                try:
                    while self.s.recv(65536):
                        pass
                except ConnectionResetError:
                    pass
                self.s.close()
                return code


class RawFrames(unittest.TestCase):
    """What a client sends that breaks RFC 6455 gets the close code it
    deserves (1002: protocol error), a message over ws_max_frame an error and
    the connection stays; the server goes on serving."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server({"pool_total": 0, "pool_sizes": {"bash": 1}, "ws_max_frame": 4096})

    @classmethod
    def tearDownClass(cls):
        assert cls.server.stop() == 0

    def test_protocol_errors_close_with_1002(self):
        cases = {
            "unmasked": Raw.frame(0x81, b'{"type":"x"}', masked=False),
            "reserved bit 1": Raw.frame(0xc1, b"{}"),
            "reserved bit 3": Raw.frame(0x91, b"{}"),
            "opcode 3": Raw.frame(0x83, b"{}"),
            "ping over 125": Raw.frame(0x89, b"p" * 126),
            "close over 125": Raw.frame(0x88, b"\x03\xe8" + b"r" * 124),
            "fragmented ping": Raw.frame(0x09, b"p"),
            "continuation first": Raw.frame(0x80, b"{}"),
            "message in a message": Raw.frame(0x01, b"{") + Raw.frame(0x81, b"{}"),
            "close of one byte": Raw.frame(0x88, b"\x03"),
            "close code 1005": Raw.frame(0x88, b"\x03\xed"),
        }
        for name, data in cases.items():
            with self.subTest(name):
                raw = Raw(self.server)
                raw.s.sendall(data)
                self.assertEqual(raw.closed_with(), 1002)
        status, r, _ = self.server.run({"language": "bash", "code": "echo alive"})
        self.assertEqual(r["stdout"], "alive\n", r)

    def test_close_handshake(self):
        raw = Raw(self.server)
        raw.send(0x88, struct.pack("!H", 1000) + b"bye")
        self.assertEqual(raw.closed_with(), 1000)
        raw = Raw(self.server)
        raw.send(0x88)  # no code: none back
        self.assertEqual(raw.closed_with(), 1005)

    def test_fragments_pings_and_oversize(self):
        raw = Raw(self.server)
        msg = json.dumps({"type": "run", "ref": "f", "language": "bash",
                          "code": "echo fragments"}).encode()
        raw.send(0x01, msg[:10])
        raw.send(0x89, b"between")
        raw.send(0x00, msg[10:20])
        raw.send(0x8a, b"unasked pong")
        raw.send(0x80, msg[20:])
        self.assertEqual(raw.read(), (0xa, b"between"))
        results = []
        while not results:
            ev = raw.event()
            if ev["type"] == "result":
                results.append(ev)
        self.assertEqual(results[0]["result"]["stdout"], "fragments\n")
        # over ws_max_frame (4096): whole, then in fragments
        raw.send(0x81, b" " * 5000)
        self.assertEqual(raw.event()["code"], "frame_too_large")
        raw.send(0x01, b" " * 3000)
        raw.send(0x80, b" " * 3000)
        self.assertEqual(raw.event()["code"], "frame_too_large")
        raw.send(0x81, b"{nope")
        self.assertEqual(raw.event()["code"], "bad_json")
        raw.send(0x89, b"still")
        self.assertEqual(raw.read(), (0xa, b"still"))
        raw.send(0x88, struct.pack("!H", 1001))
        self.assertEqual(raw.closed_with(), 1001)

    def test_frames_sent_with_the_upgrade(self):
        # frames that came in the same packets as the upgrade request are
        # read by civetweb before the server takes the connection over
        early = (Raw.frame(0x89, b"early")
                 + Raw.frame(0x81, json.dumps({"type": "run", "ref": "e", "language": "bash",
                                               "code": "echo early"}).encode()))
        raw = Raw(self.server, early=early)
        self.assertEqual(raw.read(), (0xa, b"early"))
        while True:
            ev = raw.event()
            if ev["type"] == "result":
                break
        self.assertEqual(ev["result"]["stdout"], "early\n")
        raw.send(0x88, struct.pack("!H", 1000))
        self.assertEqual(raw.closed_with(), 1000)


class UserRate(unittest.TestCase):
    def test_jobs_per_minute_answers_429_with_retry_after(self):
        server = Server({"pool_total": 0, "pool_sizes": {"bash": 1},
                         "user_jobs_per_minute": 2})
        try:
            body = {"language": "bash", "code": "echo ok", "userId": "quick"}
            for _ in range(2):
                status, r, _ = server.run(body)
                self.assertEqual((status, r["stdout"]), (200, "ok\n"), r)
            status, r, headers = server.run(body)
            self.assertEqual((status, r["error"]["code"]), (429, "rate_limited"), r)
            self.assertGreaterEqual(int(headers["Retry-After"]), 1)
            self.assertLessEqual(int(headers["Retry-After"]), 30)
            status, r, _ = server.request("POST", "/api/v1/jobs", body)
            self.assertEqual(status, 429, r)
            # another user, and no user at all, are not held to it
            status, r, _ = server.run(dict(body, userId="other"))
            self.assertEqual(status, 200, r)
            status, r, _ = server.run({"language": "bash", "code": "echo ok"})
            self.assertEqual(status, 200, r)
        finally:
            self.assertEqual(server.stop(), 0)


class WsTokens(unittest.TestCase):
    def test_tokens_and_other_peoples_jobs(self):
        other = "other-token-0123456789abcdef"
        server = Server({"pool_total": 0, "pool_sizes": {"bash": 1}},
                        args=("--token", TOKEN, "--token", other))

        async def go():
            # two tokens: one holds at most half the WebSockets by default
            self.assertEqual(websockets_health(server)["per_token"], 2048)
            with self.assertRaises(websockets.exceptions.InvalidStatusCode):
                async with connect(server):
                    pass
            with self.assertRaises(websockets.exceptions.InvalidStatusCode):
                async with connect(server, "/api/v1/ws?token=wrong-token-00000000"):
                    pass
            status, view, _ = server.request("POST", "/api/v1/jobs",
                                             {"language": "bash", "code": "echo mine"},
                                             headers={"Authorization": f"Bearer {other}"})
            self.assertEqual(status, 202, view)
            async with connect(server, f"/api/v1/ws?token={TOKEN}") as ws:
                c = Client(ws)
                await c.send(type="subscribe", id=view["id"])
                ev = await c.event()
                self.assertEqual((ev["type"], ev["code"]), ("error", "not_found"))
                await c.send(type="cancel", id=view["id"])
                ev = await c.event()
                self.assertEqual((ev["type"], ev["code"]), ("error", "not_found"))
            async with connect(server, extra_headers={"Authorization": f"Bearer {other}"}) as ws:
                c = Client(ws)
                await c.send(type="subscribe", id=view["id"])
                seen = await c.until("result")
                self.assertEqual(seen[-1]["result"]["stdout"], "mine\n")
            # over HTTP too, a job is seen only with the token that made it
            status, r, _ = server.request("GET", f"/api/v1/jobs/{view['id']}",
                                          headers={"Authorization": f"Bearer {TOKEN}"})
            self.assertEqual(status, 404, r)

        try:
            run(go())
        finally:
            self.assertEqual(server.stop(), 0)


class Fairness(unittest.TestCase):
    def test_a_users_backlog_delays_another_by_one_job(self):
        server = Server({"pool_total": 0, "pool_sizes": {"bash": 1}, "queue_size": 500,
                         "user_in_flight": 150, "shutdown_grace_s": 1})

        async def go():
            async with connect(server) as ws:
                c = Client(ws)
                for user in ("busy", "single"):
                    await c.send(type="subscribe", userId=user)
                    await c.until("subscribed")
                for i in range(200):
                    await c.send(type="run", ref=f"busy{i}", language="bash",
                                 code="sleep 0.05", userId="busy")
                # the 151st of one user is refused: user_in_flight
                refused = await c.until("error")
                self.assertEqual(refused[-1]["code"], "user_limit", refused[-1])
                await c.send(type="run", ref="single", language="bash", code="echo 1",
                             userId="single")
                # busy jobs started after "single" was queued (its "queued" event
                # is the mark: events reach a client in the order they were
                # made), before it: the one already running, whose "started"
                # can come just after the mark, and at most one whose turn came
                await c.until("queued", ref="single")
                busy_after = 0
                while True:
                    ev = await c.event()
                    if ev["type"] != "started":
                        continue
                    if ev["ref"] == "single":
                        break
                    busy_after += 1
                self.assertLessEqual(busy_after, 2)

        try:
            run(go())
        finally:
            self.assertEqual(server.stop(), 0)


def raise_open_files():
    """This process's open files limit up to its hard limit; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def upgrade(server, source="127.0.0.1", token=None):
    """An upgrade request from the loopback address SOURCE over a plain
    socket: (status, headers, body, socket). After a 101 the socket is an
    open WebSocket; closing it ends the connection."""
    s = socket.socket()
    s.settimeout(30)  # a refusal must come, never a hang
    s.bind((source, 0))
    s.connect(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    s.sendall(f"GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
              f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
              f"Sec-WebSocket-Version: 13\r\n{auth}\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        more = s.recv(4096)
        assert more, data
        data += more
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    status = int(lines[0].split()[1])
    if status != 101:
        while len(body) < int(headers.get("content-length", 0)):
            body += s.recv(4096)
        s.close()
        return status, headers, json.loads(body), None
    return status, headers, None, s


def websockets_health(server):
    status, h, _ = server.request("GET", "/healthz")
    return h["websockets"]


# 200 lines, one a millisecond: each an event for every client.
BROADCAST = ("import time\nfor i in range(1, 201):\n    print('everyone', i, flush=True)\n"
             "    time.sleep(0.001)\n")
BROADCASTED = "".join(f"everyone {i}\n" for i in range(1, 201))


class Capacity(unittest.TestCase):
    """2 000 clients at once on a server of the default configuration (but
    its cells), 500 from each of four loopback addresses (the default allows
    1 024 per address). Each subscribes to one of four userIds and to one
    userId shared by all: it hears the result of its group's job, and every
    event of a job of everyone's that prints 200 lines one by one (events for
    all of them made while the loop is busy sending the ones before), while
    /api/v1/run answers."""

    CLIENTS = 2000
    GROUPS = 4

    def test_2000_clients_hear_their_results_while_http_answers(self):
        if raise_open_files() < self.CLIENTS + 200:
            self.skipTest("the hard open files limit is below 2 200")
        server = Server({"pool_total": 0, "pool_sizes": {"bash": 2, "python": 1}})

        async def one(i, gate):
            async with gate:
                ws = await connect(server, local_addr=(f"127.0.0.{1 + i // 500}", 0))
            c = Client(ws)
            for user in (f"group-{i % self.GROUPS}", "everyone"):
                await c.send(type="subscribe", userId=user)
                await c.until("subscribed")
            return c

        async def hear(c):
            """The output of the group's job, and of everyone's."""
            out = {}
            while len(out) < 2:
                ev = await c.event()
                if ev["type"] == "result":
                    out[ev["result"]["stdout"].startswith("everyone")] = ev["result"]["stdout"]
            return out[False], out[True]

        def submit(body):
            status, view, _ = server.request("POST", "/api/v1/jobs", body)
            self.assertEqual(status, 202, view)

        async def go():
            gate = asyncio.Semaphore(100)
            clients = await asyncio.gather(*(one(i, gate) for i in range(self.CLIENTS)))
            self.assertEqual(websockets_health(server)["open"], self.CLIENTS)
            loop = asyncio.get_running_loop()
            status, r, _ = await loop.run_in_executor(None, lambda: server.run(SEED))
            self.assertEqual((status, r["stdout"]), (200, "Hello World!\n"), r)
            listening = [asyncio.create_task(hear(c)) for c in clients]
            for g in range(self.GROUPS):
                await loop.run_in_executor(None, submit, {
                    "language": "bash", "code": f"echo group {g}", "userId": f"group-{g}"})
            await loop.run_in_executor(None, submit, {
                "language": "python", "code": BROADCAST, "userId": "everyone"})
            heard = await asyncio.gather(*listening)
            self.assertEqual(heard, [(f"group {i % self.GROUPS}\n", BROADCASTED)
                                     for i in range(self.CLIENTS)])
            status, r, _ = await loop.run_in_executor(None, lambda: server.run(
                {"language": "bash", "code": "echo meanwhile"}))
            self.assertEqual((status, r["stdout"]), (200, "meanwhile\n"), r)
            await asyncio.gather(*(c.ws.close() for c in clients))

        try:
            asyncio.run(asyncio.wait_for(go(), 300))
            for _ in range(200):
                if websockets_health(server)["open"] == 0:
                    break
                time.sleep(0.1)
            self.assertEqual(websockets_health(server)["open"], 0)
        finally:
            self.assertEqual(server.stop(), 0)


OTHER = "other-token-0123456789abcdef"


class Caps(unittest.TestCase):
    """At most 6 WebSockets, 3 per client address, 4 per token: a refused
    upgrade is answered at once (429 for an address's or a token's cap, 503
    when the server is full: JSON and Retry-After), and HTTP is served all
    along."""

    def test_caps_refuse_upgrades_and_http_goes_on(self):
        server = Server({"pool_total": 0, "pool_sizes": {"bash": 1}, "ws_max_connections": 6,
                         "ws_max_per_address": 3, "ws_max_per_token": 4},
                        args=("--token", TOKEN, "--token", OTHER))
        auth = {"Authorization": f"Bearer {TOKEN}"}
        held = []

        def take(source, token):
            status, headers, body, s = upgrade(server, source, token)
            self.assertEqual(status, 101, body)
            held.append(s)

        def refused(source, token, status, code):
            got, headers, body, _ = upgrade(server, source, token)
            self.assertEqual((got, body["error"]["code"]), (status, code), body)
            self.assertTrue(body["error"]["message"])
            self.assertGreaterEqual(int(headers["retry-after"]), 1)
            # HTTP goes on
            answer, r, _ = server.run({"language": "bash", "code": "echo served"}, headers=auth)
            self.assertEqual((answer, r["stdout"]), (200, "served\n"), r)
            answer, r, _ = server.request("POST", "/api/v1/jobs",
                                          {"language": "bash", "code": "echo queued"},
                                          headers=auth)
            self.assertEqual(answer, 202, r)
            answer, r, _ = server.request("GET", "/healthz")
            self.assertEqual(answer, 200, r)

        try:
            for _ in range(3):
                take("127.0.0.1", TOKEN)
            refused("127.0.0.1", TOKEN, 429, "ws_address_limit")
            take("127.0.0.2", TOKEN)
            refused("127.0.0.2", TOKEN, 429, "ws_token_limit")
            take("127.0.0.2", OTHER)
            take("127.0.0.3", OTHER)
            refused("127.0.0.4", OTHER, 503, "ws_full")
            h = websockets_health(server)
            self.assertEqual((h["open"], h["cap"], h["per_address"], h["per_token"]),
                             (6, 6, 3, 4), h)
            self.assertEqual(h["refused"], {"total": 1, "descriptors": 0, "per_address": 1,
                                            "per_token": 1}, h)
            req = urllib.request.Request(server.url + "/metrics", headers=auth)
            with urllib.request.urlopen(req, timeout=60) as answer:
                text = answer.read().decode()
            self.assertIn('sandpool_websocket_refused_total{reason="per_address"} 1', text)
            self.assertIn("sandpool_websockets 6\n", text)
            # a place given back is a place again, for that address too
            held.pop(0).close()
            for _ in range(100):
                if websockets_health(server)["open"] == 5:
                    break
                time.sleep(0.1)
            take("127.0.0.1", TOKEN)
        finally:
            for s in held:
                s.close()
            self.assertEqual(server.stop(), 0)


class DeadAndIdle(unittest.TestCase):
    """A peer that completes the upgrade, then never reads nor answers (a
    laptop closed mid-run) is dropped after the ping timeout; a client that
    sends nothing and watches nothing is closed after the idle timeout, one
    that watches stays."""

    def test_a_dead_peer_is_dropped_after_the_ping_timeout(self):
        server = Server({"pool_total": 0, "pool_sizes": {"bash": 1}, "ws_ping_interval_s": 1,
                         "ws_ping_timeout_s": 2, "ws_idle_timeout_s": 0})

        async def go():
            status, _, _, dead = upgrade(server)
            self.assertEqual(status, 101)
            async with connect(server) as ws:  # answers pings: stays
                c = Client(ws)
                for _ in range(600):
                    h = websockets_health(server)
                    if h["dead_peers"] >= 1:
                        break
                    await asyncio.sleep(0.1)
                self.assertEqual(h["dead_peers"], 1, h)
                self.assertGreaterEqual(h["pings"], 1, h)
                await c.send(type="run", language="bash", code="echo alive")
                seen = await c.until("result")
                self.assertEqual(seen[-1]["result"]["stdout"], "alive\n")
            # what the dead peer was sent: pings, then a close 1011, then the end
            frames, data = [], b""
            while True:
                more = dead.recv(65536)
                if not more:
                    break
                data += more
            while data:
                n = data[1] & 0x7f
                frames.append((data[0] & 0x0f, data[2:2 + n]))
                data = data[2 + n:]
            self.assertEqual(frames[0], (0x9, b""))
            self.assertEqual(frames[-1][0], 0x8)
            self.assertEqual(struct.unpack("!H", frames[-1][1][:2])[0], 1011)
            dead.close()

        try:
            run(go())
        finally:
            self.assertEqual(server.stop(), 0)

    def test_an_idle_client_is_closed_a_watching_one_stays(self):
        server = Server({"pool_total": 0, "pool_sizes": {"bash": 1}, "ws_idle_timeout_s": 2})

        async def go():
            async with connect(server) as watching, connect(server) as idle:
                w = Client(watching)
                await w.send(type="subscribe", userId="watcher")
                await w.until("subscribed")
                with self.assertRaises(websockets.exceptions.ConnectionClosed) as closed:
                    await asyncio.wait_for(idle.recv(), 60)
                self.assertEqual(closed.exception.rcvd.code, 1001, closed.exception)
                self.assertTrue(closed.exception.rcvd.reason.startswith("idle"))
                await asyncio.sleep(3)  # longer than the idle timeout: still there
                loop = asyncio.get_running_loop()
                status, r, _ = await loop.run_in_executor(None, lambda: server.run(
                    {"language": "bash", "code": "echo heard", "userId": "watcher"}))
                self.assertEqual(r["stdout"], "heard\n", r)
                seen = await w.until("result")
                self.assertEqual(seen[-1]["result"]["stdout"], "heard\n")
            self.assertEqual(websockets_health(server)["idle_closed"], 1)

        try:
            run(go())
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main()

"""Bad input to a real `sandpool serve`, over raw sockets where urllib cannot
send the malformed thing: every case gets an exact status and JSON error
code, and the server serves a normal job afterwards.

Decided here: unknown members of a request are ignored (a client may send
more than this server knows); JSON that is not valid UTF-8 (or has a lone
surrogate escape) is refused whole as bad_json, so arbitrary bytes reach a
program only through base64 ("stdin_encoding", a file's "encoding"), and
"\\u0000" reaches it as a NUL byte.
"""

import base64
import http.client
import json
import os
import socket
import struct
import threading
import time
import unittest

from test_server import Server, proc_status

BASH = {"language": "bash", "code": "echo hi"}
PATHS = ("/api/v1/run", "/api/v1/jobs")
MIB = 1 << 20


def established(port, peers=None):
    """TCP connections in state ESTABLISHED whose local port is PORT (and,
    given PEERS, whose peer is one of those IPv4 addresses: a connection of
    another process on this machine to a port it had before is not ours)."""
    n = 0
    hexes = {socket.inet_aton(p)[::-1].hex().upper() for p in peers or ()}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.readlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            fields = row.split()
            if (int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01" and
                    (not peers or fields[2].split(":")[0] in hexes)):
                n += 1
    return n


def connect(server, timeout=30, source="127.0.0.1"):
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout,
                                    source_address=(source, 0))


def response(sock):
    """The answer on SOCK: (status, headers, parsed JSON body)."""
    resp = http.client.HTTPResponse(sock)
    resp.begin()
    body = resp.read()
    return resp.status, resp.headers, json.loads(body) if body else None


def exchange(server, data, timeout=30):
    """Send DATA (a whole request) on a new connection: its answer."""
    with connect(server, timeout) as sock:
        sock.sendall(data)
        return response(sock)


def post(server, path, body, extra=b""):
    """POST BODY (bytes, sent as they are) to PATH: (status, JSON answer)."""
    head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n").encode()
    status, _, answer = exchange(server, head + extra + b"\r\n" + body)
    return status, answer


def closed_by_peer(sock):
    """Read SOCK to its end; True when the server closed it."""
    try:
        while sock.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class Healthy:
    """What every case ends with: the server still answers and runs jobs."""

    def assert_healthy(self, server):
        status, h, _ = server.request("GET", "/healthz")
        self.assertEqual((status, h["status"]), (200, "ok"), h)
        status, r, _ = server.run(BASH)
        self.assertEqual((status, r["status"], r["stdout"]), (200, "ok", "hi\n"), r)

    def assert_error(self, got, status, code, message=None):
        got_status, answer = got
        self.assertEqual(got_status, status, answer)
        self.assertEqual(answer["error"]["code"], code, answer)
        if message is not None:
            self.assertEqual(answer["error"]["message"], message, answer)
        else:
            self.assertTrue(answer["error"]["message"], answer)


def field_cases():
    """(body, status, code, message or None) for every field of a request."""
    cases = []
    not_string = [None, 1, 1.5, True, [], {}]
    for field in ("language", "version", "code", "stdin", "stdin_encoding", "userId"):
        for value in not_string:
            body = dict(BASH, **{field: value})
            cases.append((body, 400, "bad_request", f"{field} must be a string"))
    for field, want in (("files", "an array"), ("args", "an array"), ("limits", "an object"),
                        ("compile_limits", "an object")):
        for value in (None, 1, 1.5, True, "x") + (({},) if want == "an array" else ([],)):
            body = dict(BASH, **{field: value})
            if field == "files":
                del body["code"]
            cases.append((body, 400, "bad_request", f"{field} must be {want}"))
    cases += [
        ({"code": "x"}, 400, "bad_request", "language is required"),
        ({"language": "bash"}, 400, "bad_request", "code or files is required"),
        (dict(BASH, files=[{"content": "x"}]), 400, "bad_request",
         "give either code or files, not both"),
        ({"language": "no-such-language", "code": "x"}, 400, "unknown_language",
         'unknown language "no-such-language"'),
        ({"language": "", "code": "x"}, 400, "unknown_language", 'unknown language ""'),
        (dict(BASH, version="0.1"), 400, "unknown_language", None),
        ({"language": "bash\u0000", "code": "x"}, 400, "bad_request",
         "language must not contain a NUL byte"),
        (dict(BASH, userId="a\nb"), 400, "bad_request",
         "userId must not contain control characters"),
        (dict(BASH, userId="u" * 129), 400, "bad_request", "userId is longer than 128 bytes"),
        (dict(BASH, args=[1]), 400, "bad_request", "args[0] must be a string"),
        (dict(BASH, args=["a\u0000"]), 400, "bad_request", "args[0] must not contain a NUL byte"),
        (dict(BASH, args=["a"] * 257), 400, "bad_request", "args must have at most 256 entries"),
        (dict(BASH, stdin="@@", stdin_encoding="base64"), 400, "bad_request",
         "stdin is not valid base64"),
        (dict(BASH, stdin_encoding="hex"), 400, "bad_request",
         'stdin_encoding must be "utf8" or "base64"'),
    ]
    for name in ("cpu_ms", "wall_ms", "memory_kb", "processes", "output_kb", "file_kb",
                 "open_files", "stack_kb", "tmpfs_kb"):
        for value in (1.5, 1.0, "5", None, True, [], {}):
            cases.append((dict(BASH, limits={name: value}), 400, "bad_request",
                          f"limits.{name} must be an integer"))
        for value in (-1, 0, 1 << 40, -(1 << 63)):
            cases.append((dict(BASH, compile_limits={name: value}), 400, "bad_request", None))
    cases += [
        (dict(BASH, limits={"cpu_ms": 20000}), 400, "bad_request",
         "limits.cpu_ms: 20000 is above the server's maximum 10000"),
        (dict(BASH, limits={"cpu_ms": 0}), 400, "bad_request",
         "limits.cpu_ms must be from 1 to 3600000"),
    ]
    return cases


def file_cases():
    main = {"name": "main.sh", "content": "echo hi"}

    def files(*more):
        return {"language": "bash", "files": [main, *more]}

    def named(name):
        return files({"name": name, "content": "x"})

    msg = "files[1].name "
    return [
        (named("../x"), msg + "has a . or .. component"),
        (named("a/../../x"), msg + "has a . or .. component"),
        (named("."), msg + "has a . or .. component"),
        (named("/etc/passwd"), msg + "must be a relative path"),
        (named("a\u0000b"), msg + "must not contain a NUL byte"),
        (named("a\nb"), msg + "has a control character"),
        (named("a\rb"), msg + "has a control character"),
        (named("a//b"), msg + "has an empty component"),
        (named("a/"), msg + "has an empty component"),
        (named(""), msg + "must not be empty"),
        (named("x" * 1025), msg + "is longer than 1024 bytes"),
        (named("x" * 256), msg + "has a component longer than 255 bytes"),
        (named("a/" * 16 + "b"), msg + "has more than 16 components"),
        (named("main.sh/x"), msg + "and files[0].name would need a file and a directory "
         "of the same name"),
        (files({"name": "a", "content": "1"}, {"name": "a", "content": "2"}),
         "files[2].name is the name of files[1] already"),
        (files({"content": "x"}), "files[1].name is required"),
        (files({"name": 7, "content": "x"}), "files[1].name must be a string"),
        (files({"name": "a"}), "files[1].content is required"),
        (files({"name": "a", "content": 1}), "files[1].content must be a string"),
        (files({"name": "a", "content": "x", "encoding": "hex"}),
         'files[1].encoding must be "utf8" or "base64"'),
        (files({"name": "a", "content": "x=", "encoding": "base64"}),
         "files[1].content is not valid base64"),
        (files({"name": "a", "content": "x", "executable": "yes"}),
         "files[1].executable must be a boolean"),
        (files("a"), "files[1] must be an object"),
        (files(*({"name": f"f{i}", "content": ""} for i in range(10000))),
         "files must have at most 1000 entries"),
        ({"language": "bash", "files": []}, "files must not be empty"),
    ]


def json_cases():
    """(raw body, message or None): all 400 bad_json."""
    ok = b'{"language": "bash", "code": "echo hi"'
    cases = [
        (b"{not json", None),
        (b'{"language": "bash", "code": "ec', None),
        (ok, None),
        (b"", None),
        (b"   ", None),
        (ok + b"} trailing", None),
        (b"[" * 100000, "the body nests deeper than 64 levels"),
        (b'{"a":' * 100000, "the body nests deeper than 64 levels"),
        (ok + b', "x": ' + b"[" * 64 + b"]" * 64 + b"}", "the body nests deeper than 64 levels"),
        (b"[]", "the body must be a JSON object"),
        (b'[{"language": "bash", "code": "echo hi"}]', "the body must be a JSON object"),
        (b'"x"', None),
        (b"1", None),
        (b"null", None),
        (b"true", None),
        (ok + b', "code": "again"}', None),
        (ok + b', "limits": {"cpu_ms": NaN}}', None),
        (ok + b', "limits": {"cpu_ms": Infinity}}', None),
        (ok + b', "limits": {"cpu_ms": -Infinity}}', None),
        (ok + b', "limits": {"cpu_ms": 1e400}}', None),
        (ok + b', "limits": {"cpu_ms": ' + b"9" * 40 + b"}}", None),
        (ok + b', "limits": {"cpu_ms": 0x10}}', None),
        (ok + b', "stdin": "\\ud800"}', None),
        (ok + b', "stdin": "a\x01b"}', None),
        (b"{'language': 'bash'}", None),
    ]
    # invalid UTF-8 in every string of a request, and in a key
    for field in (b"language", b"version", b"code", b"stdin", b"stdin_encoding", b"userId",
                  b"bogus"):
        body = {b"language": b"bash", b"code": b"echo hi"}
        body[field] = b"ba\xffsh"
        cases.append((b"{" + b", ".join(b'"%s": "%s"' % kv for kv in body.items()) + b"}",
                      None))
    for inner in (b'{"name": "\xc3", "content": "x"}', b'{"name": "a", "content": "\xed\xa0\x80"}',
                  b'{"name": "a", "content": "x", "encoding": "\xfe"}'):
        cases.append((b'{"language": "bash", "files": [' + inner + b"]}", None))
    cases += [
        (ok + b', "args": ["\xc0\xaf"]}', None),
        (ok + b', "limits": {"cpu_\xff": 1}}', None),
        (ok + b', "\xff": 1}', None),
    ]
    return cases


class Body(unittest.TestCase, Healthy):
    """One server; every case against /run and /jobs."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server({"pool_total": 0, "pool_sizes": {"python": 1, "bash": 1},
                             "max_body": MIB, "max_limits": {"cpu_ms": 10000}})

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        assert code == 0, f"sandpool serve exited {code}"

    def both(self, body, status, code, message=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        for path in PATHS:
            with self.subTest(path=path, body=raw[:100]):
                self.assert_error(post(self.server, path, raw), status, code, message)

    def test_malformed_json(self):
        for body, message in json_cases():
            self.both(body, 400, "bad_json", message)
        self.assert_healthy(self.server)

    def test_wrong_types_and_values(self):
        for body, status, code, message in field_cases():
            self.both(body, status, code, message)
        self.assert_healthy(self.server)

    def test_file_names_and_contents(self):
        for body, message in file_cases():
            self.both(body, 400, "bad_request", message)
        self.assert_healthy(self.server)

    def test_too_large(self):
        big = {"language": "bash", "code": "x" * MIB}
        self.both(big, 413, "body_too_large", "the request body is too large")
        many = {"language": "bash", "files": [{"name": f"f{i}", "content": "x" * 2048}
                                              for i in range(600)]}
        self.both(many, 413, "body_too_large", "the request body is too large")
        self.assert_healthy(self.server)

    def test_unknown_members_are_ignored(self):
        body = dict(BASH, bogus={"deep": [1, [2, {"x": None}]]}, Language="no-such-language",
                    limits={"cpu_ms": 2000, "gpu": -1, "cpu_MS": "x"})
        status, r, _ = self.server.run(body)
        self.assertEqual((status, r["status"], r["stdout"]), (200, "ok", "hi\n"), r)
        status, view, _ = self.server.request("POST", "/api/v1/jobs", body)
        self.assertEqual(status, 202, view)

    def test_what_the_program_receives(self):
        """Exact bytes: NUL and non-ASCII as UTF-8, anything through base64."""
        show = ("import sys\nprint(sys.stdin.buffer.read().hex(), open('d', 'rb').read().hex(),"
                " open('t', 'rb').read().hex())")
        status, r, _ = self.server.run({
            "language": "python", "stdin": "a\u0000\u00e9\U0001f600",
            "files": [{"name": "main.py", "content": show},
                      {"name": "d", "content": base64.b64encode(b"\xff\x00\xfe\xc0").decode(),
                       "encoding": "base64"},
                      {"name": "t", "content": "x\u0000\u00ff"}]})
        self.assertEqual(r["status"], "ok", r)
        self.assertEqual(r["stdout"].split(),
                         ["6100c3a9f09f9880", "ff00fec0", "7800c3bf"], r)
        status, r, _ = self.server.run({"language": "python", "stdin": "/wD+",
                                        "stdin_encoding": "base64",
                                        "code": "import sys\nprint(sys.stdin.buffer.read().hex())"
                                                "\n# \u0000 is kept"})
        self.assertEqual((r["status"], r["stdout"]), ("ok", "ff00fe\n"), r)


class Http(unittest.TestCase, Healthy):
    """Malformed HTTP, answered in JSON too, and bodies far over max_body."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server({"pool_total": 0, "pool_sizes": {"bash": 1}, "max_body": MIB})

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        assert code == 0, f"sandpool serve exited {code}"

    def test_malformed_requests_get_json(self):
        cases = [
            (b"GET\r\n\r\n", 400, "bad_http"),
            (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400, "bad_http"),
            (b"GET /healthz HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n", 400, "bad_http"),
            (b"POST /api/v1/run HTTP/1.1\r\nContent-Length: -5\r\n\r\n{}", 411,
             "length_required"),
            (b"POST /api/v1/run HTTP/1.1\r\nContent-Length: abc\r\n\r\n{}", 411,
             "length_required"),
            (b"POST /api/v1/jobs HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n{}", 400,
             "bad_http"),
            (b"POST /api/v1/run HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n"
             b"0\r\n\r\n", 400, "bad_json"),
            (b"GET /api/v1/run HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 405,
             "method_not_allowed"),
        ]
        for data, status, code in cases:
            with self.subTest(data=data[:60]):
                got, _, answer = exchange(self.server, data)
                self.assertEqual((got, answer["error"]["code"]), (status, code), answer)
        self.assert_healthy(self.server)

    def offer(self, head, chunk, total):
        """Send HEAD, then up to TOTAL bytes of CHUNKs while the answer is
        read: (status, answer, bytes sent, seconds to the answer)."""
        sent = [0]
        sock = connect(self.server)

        def feed():
            try:
                while sent[0] < total:
                    sock.sendall(chunk)
                    sent[0] += len(chunk)
            except OSError:
                pass

        started = time.monotonic()
        sock.sendall(head)
        thread = threading.Thread(target=feed)
        thread.start()
        try:
            status, _, answer = response(sock)
            elapsed = time.monotonic() - started
            self.assertTrue(closed_by_peer(sock), "the connection was kept")
        finally:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            thread.join(60)
            sock.close()
        return status, answer, sent[0], elapsed

    def test_huge_and_endless_bodies_are_refused_early(self):
        pid = self.server.proc.pid
        self.assert_healthy(self.server)
        before = proc_status(pid, "VmRSS")
        offered = 0
        for path in PATHS * 3:
            with self.subTest(path=path, kind="Content-Length"):
                head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {1 << 40}\r\n\r\n"
                        ).encode()
                status, answer, sent, elapsed = self.offer(head, b"x" * 65536, 256 * MIB)
                self.assertEqual((status, answer["error"]["code"]), (413, "body_too_large"))
                self.assertLess(elapsed, 10)
                self.assertLess(sent, 64 * MIB)
                offered += sent
            with self.subTest(path=path, kind="chunked"):
                head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        ).encode()
                chunk = b"10000\r\n" + b"[" * 65536 + b"\r\n"
                status, answer, sent, elapsed = self.offer(head, chunk, 256 * MIB)
                self.assertEqual((status, answer["error"]["code"]), (413, "body_too_large"))
                self.assertLess(elapsed, 30)
                self.assertLess(sent, 64 * MIB)
                offered += sent
        # routes that read no body, and a job refused before its body
        for head, status_code in (
                (f"GET /healthz HTTP/1.1\r\nContent-Length: {1 << 40}\r\n\r\n",
                 (413, "body_too_large")),
                (f"POST /nowhere HTTP/1.1\r\nContent-Length: {1 << 40}\r\n\r\n",
                 (413, "body_too_large")),
                ("PUT /api/v1/run HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                 (405, "method_not_allowed"))):
            with self.subTest(head=head):
                chunk = b"x" * 65536 if "Length" in head else b"10000\r\n" + b"x" * 65536 + b"\r\n"
                status, answer, sent, elapsed = self.offer(head.encode(), chunk, 256 * MIB)
                self.assertEqual((status, answer["error"]["code"]), status_code)
                self.assertLess(elapsed, 10)
                self.assertLess(sent, 64 * MIB)
                offered += sent
        after = proc_status(pid, "VmRSS")
        print(f"\n  bodies of 1 TiB or endless: {offered >> 20} MiB sent before the server"
              f" closed; server VmRSS {before} kB before, {after} kB after")
        # each read at most twice max_body, and kept none of it
        self.assertLess(after - before, 24 * 1024)
        self.assert_healthy(self.server)


class RawWebSocket:
    """A WebSocket client that sends whatever frame it is given."""

    def __init__(self, server):
        self.sock = connect(server, 60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /api/v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            byte = self.sock.recv(1)
            if not byte:
                raise AssertionError(f"no upgrade: {head!r}")
            head += byte
        if not head.startswith(b"HTTP/1.1 101"):
            raise AssertionError(f"no upgrade: {head!r}")

    def send(self, payload, opcode=1, fin=True):
        n = len(payload)
        mask = os.urandom(4)
        first = (0x80 if fin else 0) | opcode
        if n < 126:
            head = struct.pack("!BB", first, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", first, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", first, 0x80 | 127, n)
        key = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
        self.sock.sendall(head + mask + masked)

    def exactly(self, n):
        data = b""
        while len(data) < n:
            part = self.sock.recv(n - len(data))
            if not part:
                raise AssertionError("the server closed the WebSocket")
            data += part
        return data

    def event(self):
        while True:
            op, size = self.exactly(2)
            size &= 0x7f
            if size == 126:
                size = struct.unpack("!H", self.exactly(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self.exactly(8))[0]
            payload = self.exactly(size)
            if op & 0x0f == 1:
                return json.loads(payload)
            if op & 0x0f == 8:
                raise AssertionError("the server closed the WebSocket")

    def until(self, kind):
        seen = []
        while not seen or seen[-1]["type"] != kind:
            seen.append(self.event())
        return seen

    def close(self):
        self.sock.close()


class WebSocket(unittest.TestCase, Healthy):
    @classmethod
    def setUpClass(cls):
        cls.server = Server({"pool_total": 0, "pool_sizes": {"bash": 1}, "ws_max_frame": 65536})

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        assert code == 0, f"sandpool serve exited {code}"

    def test_bad_messages_leave_the_connection_up(self):
        run = b'{"type": "run", "language": "bash", "code": "echo hi"'
        cases = [
            (b"[" * 60000, "bad_json", "the message nests deeper than 64 levels"),
            (b'{"type": "run", "x":' * 1000, "bad_json", "the message nests deeper than 64 levels"),
            (run + b', "x": ' + b"[" * 64 + b"]" * 64 + b"}", "bad_json",
             "the message nests deeper than 64 levels"),
            (b'{"type": "run", "language": "bash", "code": "echo \xff"}', "bad_json", None),
            (b'{"type": "run", "language": "b\xc3", "code": "echo"}', "bad_json", None),
            (run + b', "limits": {"cpu_ms": NaN}}', "bad_json", None),
            (run + b', "type": "run"}', "bad_json", None),
            (b"", "bad_json", None),
            (b"null", "bad_json", None),
            (run + b', "limits": {"cpu_ms": 0}}', "bad_request",
             "limits.cpu_ms must be from 1 to 3600000"),
            (run + b', "files": []}', "bad_request", "give either code or files, not both"),
            (run + b', "userId": 5}', "bad_request", "userId must be a string"),
            (b'{"type": "run", "language": "bash", "files": [{"name": "../x", "content": ""}]}',
             "bad_request", "files[0].name has a . or .. component"),
            (b'{"type": "run", "language": 7, "code": "x"}', "bad_request",
             "language must be a string"),
            (b'{"type": 7}', "bad_request", "type is missing"),
            (b'{"type": "subscribe", "id": 5}', "not_found", None),
            (b'{"type": "cancel", "id": ["x"]}', "not_found", None),
            (b'{"type": "stdin", "id": null, "data": "x"}', "not_found", None),
            (run + b', "stdin": "' + b"x" * 70000 + b'"}', "frame_too_large", None),
        ]
        ws = RawWebSocket(self.server)
        try:
            for frame, code, message in cases:
                for opcode in (1, 2):  # text, binary
                    with self.subTest(frame=frame[:60], opcode=opcode):
                        ws.send(frame, opcode)
                        ev = ws.event()
                        self.assertEqual((ev["type"], ev["code"]), ("error", code), ev)
                        if message is not None:
                            self.assertEqual(ev["message"], message, ev)
            # an interactive run's stdin messages of the wrong kind
            ws.send(b'{"type": "run", "language": "bash", "interactive": true, '
                    b'"code": "read x; echo got $x"}')
            job_id = ws.until("queued")[-1]["id"]
            for msg in ({"data": 5}, {"data": "@@", "encoding": "base64"}, {}):
                ws.send(json.dumps(dict(msg, type="stdin", id=job_id)).encode())
                ev = ws.until("error")[-1]
                self.assertEqual(ev["code"], "bad_request", ev)
            ws.send(json.dumps({"type": "stdin", "id": job_id, "data": "on\n"}).encode())
            result = ws.until("result")[-1]["result"]
            self.assertEqual(result["stdout"], "got on\n", result)
            ws.send(run + b"}")
            result = ws.until("result")[-1]["result"]
            self.assertEqual(result["stdout"], "hi\n", result)
        finally:
            ws.close()
        self.assert_healthy(self.server)

    def test_args_reach_the_program(self):
        args = ["a b", "", "$(id)", "*", "-x", "line\nbreak", "h\u00e9"]
        ws = RawWebSocket(self.server)
        try:
            ws.send(json.dumps({"type": "run", "language": "bash", "args": args,
                                "code": "for a; do printf '[%s]' \"$a\"; done"}).encode())
            result = ws.until("result")[-1]["result"]
            self.assertEqual(result["stdout"], "".join(f"[{a}]" for a in args), result)
        finally:
            ws.close()

    def test_a_message_in_fragments_is_one_message(self):
        ws = RawWebSocket(self.server)
        try:
            # (a continuation with nothing to continue closes the connection
            # with 1002: test_ws.RawFrames)
            msg = b'{"type": "run", "ref": "f", "language": "bash", "code": "echo frag"}'
            ws.send(msg[:10], fin=False)
            ws.send(b"", opcode=9)  # a ping between fragments
            ws.send(msg[10:30], opcode=0, fin=False)
            ws.send(msg[30:], opcode=0)
            seen = ws.until("result")
            self.assertEqual(seen[0]["type"], "queued", seen)
            self.assertEqual((seen[-1]["ref"], seen[-1]["result"]["stdout"]), ("f", "frag\n"))
            # fragments add up to ws_max_frame at most
            ws.send(b'{"type": "run", "stdin": "' + b"x" * 40000, opcode=2, fin=False)
            ws.send(b"x" * 40000 + b'"}', opcode=0)
            ev = ws.event()
            self.assertEqual((ev["type"], ev["code"]), ("error", "frame_too_large"), ev)
            # (a message started inside an unfinished one closes the
            # connection with 1002: test_ws.RawFrames)
            ws.send(b'{"type": "fly"}')
            ev = ws.event()
            self.assertEqual((ev["type"], ev["code"], ev["message"]),
                             ("error", "bad_request", "unknown type"), ev)
        finally:
            ws.close()
        self.assert_healthy(self.server)


def drip_headers(socks, stop, pause):
    """Send a never-ending header to each of SOCKS, one byte per PAUSE."""
    head = b"POST /api/v1/run HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100000
    i = 0
    while not stop.wait(pause):
        for sock in socks:
            try:
                sock.send(head[i:i + 1])
            except OSError:
                pass
        i += 1


class SlowClients(unittest.TestCase, Healthy):
    def test_slow_clients_do_not_starve_the_others(self):
        """200 connections from four addresses (one may hold half the
        threads): 180 send their headers a byte at a time, 20 half a body and
        stall. With the defaults (threads, request_timeout_s) a normal client
        is served as usual all the while."""
        server = Server({"pool_total": 0, "pool_sizes": {"bash": 1}})
        socks, stop, dripper = [], threading.Event(), None
        try:
            self.assert_healthy(server)
            pid = server.proc.pid
            threads = proc_status(pid, "Threads")
            for i in range(200):
                sock = connect(server, source=f"127.0.0.{2 + i % 4}")
                if i >= 180:
                    sock.sendall(b"POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\n"
                                 b"Content-Length: 1000\r\n\r\n" + b'{"language": ' + b" " * 400)
                socks.append(sock)
            dripper = threading.Thread(target=drip_headers, args=(socks[:180], stop, 0.5))
            dripper.start()
            time.sleep(1)
            self.assertGreaterEqual(established(server.port), 150)
            for _ in range(5):
                started = time.monotonic()
                self.assert_healthy(server)
                took = time.monotonic() - started
                self.assertLess(took, 8, "a normal client waited behind slow ones")
                time.sleep(0.5)
            print(f"\n  {established(server.port)} connections open; last health check and"
                  f" job took {took:.2f} s")
        finally:
            stop.set()
            if dripper is not None:
                dripper.join(30)
            for sock in socks:
                sock.close()
        try:
            deadline = time.monotonic() + 30
            slow = [f"127.0.0.{i}" for i in range(2, 6)]
            while established(server.port, slow) > 0 and time.monotonic() < deadline:
                time.sleep(0.2)
            self.assertEqual(established(server.port, slow), 0)
            self.assertLessEqual(proc_status(pid, "Threads"), threads)
            self.assert_healthy(server)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_request_timeout_cuts_slow_headers_and_stalled_bodies(self):
        server = Server({"pool_total": 0, "pool_sizes": {"bash": 1}, "request_timeout_s": 2})
        stop = threading.Event()
        try:
            with connect(server) as headers, connect(server) as body:
                dripper = threading.Thread(target=drip_headers, args=([headers], stop, 0.2))
                dripper.start()
                started = time.monotonic()
                body.sendall(b"POST /api/v1/run HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                             b"\r\n" + b'{"language": "bash", "code": "echo')
                status, headers_of, answer = response(body)
                self.assertEqual((status, answer["error"]["code"]), (408, "request_timeout"))
                self.assertEqual(headers_of["Connection"], "close")
                self.assertGreaterEqual(time.monotonic() - started, 1.5)
                self.assertLess(time.monotonic() - started, 15)
                self.assertTrue(closed_by_peer(headers))
                self.assertLess(time.monotonic() - started, 15)
                stop.set()
                dripper.join(30)
            self.assert_healthy(server)
        finally:
            stop.set()
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main()

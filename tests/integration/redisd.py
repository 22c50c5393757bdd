"""A real redis-server for the tests: Debian's, on loopback (and the
addresses asked for), with a password, nothing kept on disk."""

import shutil
import socket
import subprocess
import tempfile
import threading
import time

PASSWORD = "s3cret pass:word@"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """redis-server on loopback, with a password, nothing kept on disk."""

    def __init__(self, port=None, bind=("127.0.0.1",), durable_in=None, ready=True):
        """DURABLE_IN: a folder where every write is on disk before it is
        answered (appendonly, appendfsync always), for a restart to find.
        READY: wait until it answers PING (else only until it listens: it
        may still be loading its data)."""
        self.port = port or free_port()
        self.dir = durable_in or tempfile.mkdtemp(prefix="sandpool-redis-")
        self.durable = durable_in is not None
        aof = ["yes", "--appendfsync", "always"] if self.durable else ["no"]
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", *bind, "--save", "",
             "--appendonly", *aof, "--dir", self.dir, "--requirepass", PASSWORD,
             "--enable-debug-command", "local"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while self.cli("PING") != "PONG" and (ready or not self.cli("PING")):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("redis-server did not start")
            time.sleep(0.05)

    @property
    def url(self):
        quoted = PASSWORD.replace("%", "%25").replace(":", "%3A").replace("@", "%40") \
            .replace(" ", "%20")
        return f"redis://:{quoted}@127.0.0.1:{self.port}"

    def cli(self, *args):
        proc = subprocess.run(["redis-cli", "-p", str(self.port), "--no-auth-warning", "-a",
                               PASSWORD, *args], capture_output=True, text=True)
        return proc.stdout.strip()

    def listen(self, channel):
        """Subscribe to CHANNEL now; returns a function that stops listening
        and returns the messages heard meanwhile (their payloads)."""
        proc = subprocess.Popen(["redis-cli", "-p", str(self.port), "--no-auth-warning", "-a",
                                 PASSWORD, "SUBSCRIBE", channel],
                                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        for _ in range(3):  # subscribe, the channel, 1: subscribed
            proc.stdout.readline()
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()

        def stop():
            proc.terminate()
            proc.wait(timeout=20)
            reader.join(timeout=20)
            got = [line.rstrip("\n") for line in lines]
            return [got[i + 2] for i in range(0, len(got) - 2, 3) if got[i] == "message"]
        return stop

    def kill(self):
        """SIGKILL: what was answered stays on disk when durable."""
        self.proc.kill()
        self.proc.wait(timeout=20)

    def stop(self, keep=False):
        self.proc.terminate()
        self.proc.wait(timeout=20)
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)

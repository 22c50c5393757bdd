"""What the tools of the queue in Redis share (bench-cluster, soak-cluster):
a redis-server on loopback, and a `sandpool serve` or `sandpool worker`
node ready when its /healthz answers."""

import http.client
import json
import os
import shutil
import signal
import subprocess
import time

from benchlib import free_port


class RedisServer:
    """redis-server on loopback with its files in DIR; DURABLE: every write
    on disk before it is answered (appendonly, appendfsync always), so that
    a restart on the same files loses nothing it answered."""

    def __init__(self, dir, durable=False):
        self.port = free_port()
        self.dir = dir
        self.durable = durable
        self.url = f"redis://127.0.0.1:{self.port}"
        self.start()

    def start(self):
        aof = ["yes", "--appendfsync", "always"] if self.durable else ["no"]
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", *aof, "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while self.cli("PING") != "PONG":
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port), *args],
                              capture_output=True, text=True).stdout.strip()

    def kill_and_restart(self):
        """SIGKILL, then a new redis-server on the same port and files."""
        self.proc.kill()
        self.proc.wait()
        time.sleep(0.5)
        self.start()

    def stop(self, remove=True):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)


class Node:
    """SANDPOOL COMMAND (serve or worker) with CONFIG and the arguments
    EXTRA, its configuration and log in DIR as LABEL, ready when its /healthz
    answers 200 (RuntimeError when it exits or does not within 120 s)."""

    def __init__(self, sandpool, command, config, extra=(), state_dir="", dir=".",
                 label="node"):
        self.port = free_port()
        self.label = label
        self.url = f"http://127.0.0.1:{self.port}"
        cfg = os.path.join(dir, f"{label}.json")
        with open(cfg, "w") as f:
            json.dump(config, f)
        cmd = [sandpool, command, "--config", cfg, "--listen", f"127.0.0.1:{self.port}", *extra]
        if state_dir:
            cmd += ["--state-dir", state_dir]
        self.log_path = os.path.join(dir, f"{label}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                with open(self.log_path) as f:
                    raise RuntimeError(f"sandpool {command} exited: {f.read()[-2000:]}")
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"sandpool {command} did not start")

    def request(self, method, path, body=None):
        """(status, its JSON answer, its Retry-After or None)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, json.dumps(body) if body is not None else None,
                         {"Content-Type": "application/json"} if body is not None else {})
            r = conn.getresponse()
            data = r.read()
            try:
                answer = json.loads(data)
            except ValueError:
                answer = {"raw": data[:200].decode(errors="replace")}
            return r.status, answer, r.getheader("Retry-After")
        finally:
            conn.close()

    def stop(self):
        """SIGTERM (after SIGCONT: it may be stopped), SIGKILL past 120 s;
        its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

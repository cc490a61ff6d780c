"""A Lambda Runtime API of our own, for timing function processes.

The Runtime API is what a `provided.al2023` function's process talks to:
it asks `GET /2018-06-01/runtime/invocation/next` for an event and posts
the answer to `.../invocation/{id}/response` (or `.../error`, or
`/runtime/init/error` when it cannot start). `Function` starts one process
against such an API and invokes it; `first_response` times exec to the
first answer, which is what a cold start costs the caller.
"""
import json
import os
import queue
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


class _Api(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.events = queue.Queue()
        self.answers = queue.Queue()

    def handle_error(self, request, client_address):
        pass  # a killed function's connection breaks: that is expected


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path != f"{PREFIX}/invocation/next":
            return self._reply(404, b"{}")
        request_id, event = self.server.events.get()
        deadline = int((time.time() + 30) * 1000)
        self._reply(200, event, {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline),
            "Lambda-Runtime-Invoked-Function-Arn":
                "arn:aws:lambda:us-east-1:123456789012:function:bench",
            "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
        })

    def do_POST(self):
        # The clock stops when the answer has arrived, before it is read.
        arrived = time.perf_counter()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        kind = self.path[len(PREFIX):]
        self._reply(202, b"{}")
        self.server.answers.put((arrived, kind, body))

    def _reply(self, status, body, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class Function:
    """One function process with a Runtime API of its own."""

    def __init__(self, binary, handler, env):
        self.api = _Api()
        threading.Thread(target=self.api.serve_forever, daemon=True).start()
        self.seq = 0
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.api.server_address[1]}",
            "AWS_LAMBDA_FUNCTION_NAME": f"bench-{handler}",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/bench-{handler}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
            "_HANDLER": handler,
            **env,
        }
        self.binary = binary
        self.process = None

    def queue(self, event):
        self.seq += 1
        self.api.events.put((f"req-{self.seq}", event))

    def start(self):
        """Starts the process; the moment exec was asked for."""
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [self.binary], env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return started

    def answer(self, timeout=30):
        """The next answer: (arrival time, its status code, its JSON)."""
        try:
            arrived, kind, body = self.api.answers.get(timeout=timeout)
        except queue.Empty:
            raise SystemExit(f"{self.binary} ({self.env['_HANDLER']}): no answer in {timeout} s")
        if not kind.endswith("/response"):
            raise SystemExit(f"{self.env['_HANDLER']}: {kind}: {body[:300]!r}")
        response = json.loads(body)
        return arrived, response.get("statusCode"), response

    def invoke(self, event):
        self.queue(event)
        return self.answer()

    def rss_kib(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise SystemExit("no VmRSS")

    def stop(self):
        if self.process:
            self.process.kill()
            self.process.wait()
            self.process = None

    def close(self):
        self.stop()
        self.api.shutdown()
        self.api.server_close()


def first_response(binary, handler, env, event, expect_status):
    """Milliseconds from exec to the first answer of a new process. Each
    start gets a Runtime API of its own: a killed process's pending
    `next` must not take the following start's event."""
    function = Function(binary, handler, env)
    try:
        function.queue(event)
        started = function.start()
        arrived, status, response = function.answer()
    finally:
        function.close()
    if status != expect_status:
        raise SystemExit(f"{handler}: status {status}, not {expect_status}: {str(response)[:300]}")
    return (arrived - started) * 1000

"""A small stand-in for the ENG CSP API for the compose stack (stdlib only).

GET    /v2/current_user/accounts    -> {"results": [...]}: active sandbox accounts (plus one parent account that
                                       the broker must ignore)
DELETE /v2/sandbox/accounts/<uuid>  -> 204, or 404 for an unknown uuid; every deleted account is replaced by a
                                       new one, so the pool refills the way a provisioning pipeline would
GET    /healthz                     -> 200 (no auth)
POST   /control {"fail_rate": 0.3, "down": true, "empty": true}
                                    -> fault drills: a share of DELETEs answer 500, every /v2 call answers 503,
                                       or the list comes back empty (the broker's sync guard must hold)
Every /v2 call needs "Authorization: Token <CSP_STUB_TOKEN>".
Environment: CSP_STUB_PORT (8081), CSP_STUB_TOKEN, CSP_STUB_SANDBOXES (60), CSP_STUB_NAME_PREFIX (lab).
"""
import json
import os
import random
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("CSP_STUB_PORT", "8081"))
TOKEN = os.environ.get("CSP_STUB_TOKEN", "compose-csp-token")
COUNT = int(os.environ.get("CSP_STUB_SANDBOXES", "60"))
PREFIX = os.environ.get("CSP_STUB_NAME_PREFIX", "lab")

lock = threading.Lock()
state = {"fail_rate": 0.0, "down": False, "empty": False}
counter = {"next": 0}
accounts = {}


def new_account():
    n = counter["next"]
    counter["next"] += 1
    account_uuid = str(uuid.uuid4())
    accounts[account_uuid] = {
        "id": f"identity/accounts/{account_uuid}",
        "csp_id": 4000000 + n,
        "name": f"{PREFIX}-{n:04d}",
        "account_type": "sandbox",
        "state": "active",
        "created_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        "sfdc_account_id": f"SFDC{n:06d}",
    }


with lock:
    for _ in range(COUNT):
        new_account()

PARENT = {"id": "identity/accounts/00000000-0000-0000-0000-000000000001", "csp_id": 1, "name": "parent",
          "account_type": "parent", "state": "active", "created_at": "2025-01-01T00:00:00Z"}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        print(json.dumps({"method": self.command, "path": self.path, "status": args[1] if len(args) > 1 else None}),
              flush=True)

    def _send(self, code, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _guard(self):
        if state["down"]:
            self._send(503, {"error": "service unavailable (drill)"})
            return True
        if self.headers.get("Authorization") != f"Token {TOKEN}":
            self._send(401, {"error": "unauthorized"})
            return True
        return False

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/healthz":
            return self._send(200, {"status": "ok"})
        if self._guard():
            return
        if path == "/v2/current_user/accounts":
            with lock:
                results = [] if state["empty"] else list(accounts.values()) + [PARENT]
            return self._send(200, {"results": results})
        self._send(404, {"error": "no route"})

    def do_DELETE(self):
        if self._guard():
            return
        if not self.path.startswith("/v2/sandbox/accounts/"):
            return self._send(404, {"error": "no route"})
        account_uuid = self.path.rsplit("/", 1)[-1]
        with lock:
            if account_uuid not in accounts:
                return self._send(404, {"error": "not found"})
            if random.random() < state["fail_rate"]:
                return self._send(500, {"error": "internal error (drill)"})
            del accounts[account_uuid]
            new_account()
        self._send(204)

    def do_POST(self):
        if self.path != "/control":
            return self._send(404, {"error": "no route"})
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0) or 0)) or b"{}")
        unknown = set(body) - set(state)
        if unknown:
            return self._send(400, {"error": f"unknown switches {sorted(unknown)}"})
        with lock:
            state.update(body)
            return self._send(200, state)


if __name__ == "__main__":
    print(f"CSP stub on :{PORT} with {COUNT} sandboxes", flush=True)
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()

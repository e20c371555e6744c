"""A small stand-in for the ENG CSP API for the compose stack (stdlib only).

GET    /v2/current_user/accounts    -> {"results": [...]}: active sandbox accounts (plus one parent account that
                                       the broker must ignore)
DELETE /v2/sandbox/accounts/<uuid>  -> 204, or 404 for an unknown uuid; every deleted account is replaced by a
                                       new one, so the pool refills the way a provisioning pipeline would
GET    /healthz                     -> 200 (no auth)
POST   /control {"fail_rate": 0.3, "down": true, "empty": true}
                                    -> fault drills: a share of DELETEs answer 500, every /v2 call answers 503,
                                       or the list comes back empty (the broker's sync guard must hold)
Every /v2 account call needs "Authorization: Token <CSP_STUB_TOKEN>".
NIOSXaaS (the broker's pre-delete step, SPEC 12), on the same root:
POST   /v2/session/users/sign_in {"email","password"} -> {"jwt"} for CSP_STUB_NX_EMAIL/CSP_STUB_NX_PASSWORD, else 401
POST   /v2/session/account_switch {"id": external_id} (Bearer sign-in jwt) -> {"jwt"} for that account; unknown 404
GET    /api/universalinfra/v1/universalservices (Bearer account jwt) -> {"results": [{"id","name"}]}: every other
                                       account has an "Instrqt-SaaS" and a "keep-me" service
DELETE /api/universalinfra/v1/universalservices/<uuid> -> 204, 404 when gone
A sign-in jwt is refused (401) after 40 calls, as an expired one would be. /control also takes "nx_down" (503 on
every NIOSXaaS call), "nx_fail_deletes" (500 on service deletes) and "nx_html" (an HTML page instead of JSON).
Environment: CSP_STUB_PORT (8081), CSP_STUB_TOKEN, CSP_STUB_SANDBOXES (60), CSP_STUB_NAME_PREFIX (lab),
CSP_STUB_NX_EMAIL, CSP_STUB_NX_PASSWORD.
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

NX_EMAIL = os.environ.get("CSP_STUB_NX_EMAIL", "compose-nx@example.com")
NX_PASSWORD = os.environ.get("CSP_STUB_NX_PASSWORD", "compose-nx-password")
JWT_USES = 40

lock = threading.Lock()
state = {"fail_rate": 0.0, "down": False, "empty": False, "nx_down": False, "nx_fail_deletes": False, "nx_html": False}
counter = {"next": 0}
accounts = {}
services = {}   # account uuid -> [{"id", "name"}]
jwts = {}       # jwt -> {"uses": n, "account": uuid or None}


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
    services[account_uuid] = ([{"id": f"infra/universal_service/{uuid.uuid4()}", "name": "Instrqt-SaaS"},
                               {"id": f"infra/universal_service/{uuid.uuid4()}", "name": "keep-me"}] if n % 2 == 0 else [])


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

    def _send_html(self):
        data = b"<html><body>Service temporarily unavailable</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _jwt(self, want_account):
        """The caller's jwt record (its use counted), or None after answering 401."""
        auth = self.headers.get("Authorization", "")
        with lock:
            rec = jwts.get(auth[7:]) if auth.startswith("Bearer ") else None
            good = rec is not None and (rec["account"] is not None) == want_account and (want_account or rec["uses"] < JWT_USES)
            if good:
                rec["uses"] += 1
        if not good:
            self._send(401, {"error": "jwt refused"})
            return None
        return rec

    def _nx(self):
        """NIOSXaaS routes; True when the request was one."""
        path = self.path.split("?")[0]
        if not (path.startswith("/v2/session/") or path.startswith("/api/universalinfra/")):
            return False
        body = {}
        if self.command == "POST":
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0) or 0)) or b"{}")
            except ValueError:
                self._send(400, {"error": "json"})
                return True
        if state["nx_down"]:
            self._send(503, {"error": "service unavailable (drill)"})
            return True
        if state["nx_html"]:
            self._send_html()
            return True
        if self.command == "POST" and path == "/v2/session/users/sign_in":
            if body.get("email") != NX_EMAIL or body.get("password") != NX_PASSWORD:
                self._send(401, {"error": "credentials"})
                return True
            token = f"root-{uuid.uuid4().hex}"
            with lock:
                jwts[token] = {"uses": 0, "account": None}
            self._send(200, {"jwt": token})
        elif self.command == "POST" and path == "/v2/session/account_switch":
            if self._jwt(False) is None:
                return True
            account_uuid = str(body.get("id", "")).rsplit("/", 1)[-1]
            with lock:
                known = account_uuid in services
                token = f"acct-{uuid.uuid4().hex}"
                if known:
                    jwts[token] = {"uses": 0, "account": account_uuid}
            self._send(200, {"jwt": token}) if known else self._send(404, {"error": "account"})
        elif self.command == "GET" and path == "/api/universalinfra/v1/universalservices":
            rec = self._jwt(True)
            if rec is None:
                return True
            with lock:
                results = list(services.get(rec["account"], []))
            self._send(200, {"results": results})
        elif self.command == "DELETE" and path.startswith("/api/universalinfra/v1/universalservices/"):
            rec = self._jwt(True)
            if rec is None:
                return True
            if state["nx_fail_deletes"]:
                self._send(500, {"error": "internal error (drill)"})
                return True
            sid = path.rsplit("/", 1)[-1]
            with lock:
                mine = services.get(rec["account"], [])
                hit = [s for s in mine if s["id"].rsplit("/", 1)[-1] == sid]
                services[rec["account"]] = [s for s in mine if s not in hit]
            self._send(204) if hit else self._send(404, {"error": "not found"})
        else:
            self._send(404, {"error": "no route"})
        return True

    def _guard(self):
        if state["down"]:
            self._send(503, {"error": "service unavailable (drill)"})
            return True
        if self.headers.get("Authorization") != f"Token {TOKEN}":
            self._send(401, {"error": "unauthorized"})
            return True
        return False

    def do_GET(self):
        if self._nx():
            return
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
        if self._nx():
            return
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
            services.pop(account_uuid, None)
            new_account()
        self._send(204)

    def do_POST(self):
        if self._nx():
            return
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

"""An IAM Identity Center stand-in: the `sso` portal and `sso-oidc` services for tests.

No emulator on the registries serves these two services, so this one does, to the wire
format of botocore's own service models (`botocore/data/sso` and `sso-oidc`, both
rest-json): OIDC errors carry `error`/`error_description` with the modeled HTTP status,
portal errors a `message`, and both name their type in `x-amzn-ErrorType` (what botocore
and the Rust SDKs read first). Role credentials are not invented: they are minted by
moto's STS (AssumeRole of an `AWSReservedSSO_*` role that this stand-in provisions in
the account through a CloudFormation StackSet, the only way moto lets a caller with IAM
auth on create a role in another account), so moto accepts them and GetCallerIdentity
answers as the role.

Routes (one server serves both services; point AWS_ENDPOINT_URL_SSO and
AWS_ENDPOINT_URL_SSO_OIDC at it):
  OIDC    POST /client/register, POST /device_authorization, POST /token
  portal  GET /assignment/accounts, GET /assignment/roles, GET /federation/credentials,
          POST /logout (bearer in `x-amz-sso_bearer_token`)
  browser GET /device?user_code=... (the verification URI: the code, Approve, Deny),
          POST /device (form user_code=...&action=approve|deny: the person's decision),
          GET /authorize?... (the authorization code grant with PKCE: a 302 to the
          registered redirect URI with the code, as if the person allowed at once)
  tests   /_stand_in/... (JSON controls; see `sso_controls.py`)

Modules: this one is the HTTP layer; `sso_state.py` the two services' operations,
`sso_moto_roles.py` the credentials from moto, `sso_controls.py` the test controls,
`sso_wire.py` the names and error shapes they share.

Run: python sso_portal.py --port N (0 picks one); prints "listening on HOST:PORT".
Moto is reached through MOTO_ENDPOINT and the keys in AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY (a user allowed every action in moto's default account, whose
ARN is STAND_IN_PRINCIPAL_ARN: the reserved roles trust it).
"""

import argparse
import html
import json
import os
import secrets
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from sso_controls import Controls
from sso_moto_roles import Moto
from sso_state import Portal
from sso_wire import OPERATIONS, ApiError


def make_handler(portal, controls):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle's algorithm on, the body
        # would wait for the client's delayed ACK (40 ms a request on keep-alive).
        disable_nagle_algorithm = True

        def log_message(self, fmt, *args):
            sys.stderr.write("%s\n" % (fmt % args))

        def do_GET(self):
            self.dispatch("GET")

        def do_POST(self):
            self.dispatch("POST")

        def read_body(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not raw:
                return {}
            try:
                return json.loads(raw)
            except ValueError:
                raise ApiError(400, "SerializationException", "body is not JSON")

        def send(self, status, payload, headers=()):
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", secrets.token_hex(16))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def dispatch(self, method):
            url = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            operation = OPERATIONS.get((method, url.path))
            try:
                if url.path.startswith("/_stand_in/"):
                    name = url.path[len("/_stand_in/"):].replace("-", "_")
                    action = getattr(controls, name, None)
                    if action is None or name.startswith("_"):
                        raise ApiError(404, "ResourceNotFoundException", f"no control {name}")
                    self.send(200, action(self.read_body()))
                elif url.path == "/device":
                    self.browser(method, params)
                elif (method, url.path) == ("GET", "/authorize"):
                    location = portal.authorize(params)
                    self.send_response(302)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif operation is None:
                    raise ApiError(404, "UnknownOperationException", f"{method} {url.path}")
                else:
                    body = self.read_body()
                    portal.count(operation, params, body)
                    bearer = self.headers.get("x-amz-sso_bearer_token")
                    answer = {
                        "RegisterClient": lambda: portal.register_client(body),
                        "StartDeviceAuthorization": lambda: portal.start_device_authorization(body),
                        "CreateToken": lambda: portal.create_token(body),
                        "ListAccounts": lambda: portal.list_accounts(params, bearer),
                        "ListAccountRoles": lambda: portal.list_account_roles(params, bearer),
                        "GetRoleCredentials": lambda: portal.get_role_credentials(params, bearer),
                        "Logout": lambda: portal.logout(bearer),
                    }[operation]()
                    self.send(200, answer)
            except ApiError as e:
                if e.oidc_code is not None:
                    payload = {"error": e.oidc_code, "error_description": e.message}
                else:
                    payload = {"message": e.message}
                self.send(e.status, payload, [("x-amzn-ErrorType", e.type_name)])
            except Exception as e:  # a bug here: say so in the wire shape of a 500
                import traceback

                traceback.print_exc()
                self.send(500, {"message": f"stand-in failure: {e}"},
                          [("x-amzn-ErrorType", "InternalServerException")])

        def browser(self, method, params):
            """The verification URI, as a person's browser meets it: GET shows the code
            with Approve and Deny; POST (a form: user_code, action) decides."""
            if method == "POST":
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                code = form.get("user_code") or params.get("user_code", "")
                decision = {"approve": controls.approve, "deny": controls.deny}.get(form.get("action"))
                if decision is None:
                    raise ApiError(400, "InvalidRequestException", "action must be approve or deny")
                decision({"userCode": code})
                body = f"<h1>Request {form['action']}d</h1><p>You may close this window.</p>"
            else:
                code = html.escape(params.get("user_code", ""), quote=True)
                body = (
                    "<h1>Authorize request</h1>"
                    f'<form method="post" action="/device"><p>Code: <input name="user_code" value="{code}"></p>'
                    '<button name="action" value="approve">Approve</button> '
                    '<button name="action" value="deny">Deny</button></form>'
                )
            page = f"<!doctype html><title>Authorize request</title>{body}".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # A client syncing many accounts opens many connections at once; the default
    # backlog of 5 would make the kernel drop SYNs and the client wait a second each.
    request_queue_size = 256


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    server = Server((args.host, args.port), None)
    host, port = server.server_address[:2]
    base_url = f"http://{host}:{port}"
    moto = Moto(os.environ["MOTO_ENDPOINT"], os.environ["STAND_IN_PRINCIPAL_ARN"])
    portal = Portal(base_url, moto)
    server.RequestHandlerClass = make_handler(portal, Controls(portal))
    print(f"listening on {host}:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

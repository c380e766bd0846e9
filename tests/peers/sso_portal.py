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
  browser GET /device?user_code=... (what the verification URI shows)
  tests   /_stand_in/... (JSON controls; see `Controls` below)

Run: python sso_portal.py --port N (0 picks one); prints "listening on HOST:PORT".
Moto is reached through MOTO_ENDPOINT and the keys in AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY (a user allowed every action in moto's default account).
"""

import argparse
import base64
import json
import os
import secrets
import string
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
ROLE_PATH = "/aws-reserved/sso.amazonaws.com/"

# What each route is, by method and path: the operation names tests count and throttle.
OPERATIONS = {
    ("POST", "/client/register"): "RegisterClient",
    ("POST", "/device_authorization"): "StartDeviceAuthorization",
    ("POST", "/token"): "CreateToken",
    ("GET", "/assignment/accounts"): "ListAccounts",
    ("GET", "/assignment/roles"): "ListAccountRoles",
    ("GET", "/federation/credentials"): "GetRoleCredentials",
    ("POST", "/logout"): "Logout",
}
OIDC_OPERATIONS = {"RegisterClient", "StartDeviceAuthorization", "CreateToken"}


class ApiError(Exception):
    """An error answered in the wire shape of the service the operation belongs to."""

    def __init__(self, status, type_name, message, oidc_code=None):
        super().__init__(message)
        self.status = status
        self.type_name = type_name
        self.message = message
        self.oidc_code = oidc_code


def oidc_error(status, type_name, code, description):
    return ApiError(status, type_name, description, oidc_code=code)


def unauthorized():
    return ApiError(401, "UnauthorizedException", "Session token not found or invalid")


def now():
    return time.time()


def token(prefix, nbytes=48):
    return prefix + base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).decode().rstrip("=")


def user_code():
    letters = string.ascii_uppercase.replace("O", "").replace("I", "")
    raw = "".join(secrets.choice(letters) for _ in range(8))
    return raw[:4] + "-" + raw[4:]


def role_suffix(role_name):
    """The 16 hex digits AWS appends to a permission set's role. AWS's are random per
    account; here they are the name's FNV-1a 64 hash, so tests can predict the ARN."""
    h = 0xCBF29CE484222325
    for byte in role_name.encode():
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def reserved_role_name(role_name):
    return f"AWSReservedSSO_{role_name}_{role_suffix(role_name)}"


def role_arn(account_id, role_name):
    return f"arn:aws:iam::{account_id}:role{ROLE_PATH}{reserved_role_name(role_name)}"


class Moto:
    """Mints role credentials with moto's STS, provisioning the reserved role first."""

    def __init__(self, endpoint, principal_arn):
        import boto3  # only here: the stand-in's OIDC half needs nothing but the stdlib

        kwargs = {"endpoint_url": endpoint, "region_name": "us-east-1"}
        self.sts = boto3.client("sts", **kwargs)
        self.cfn = boto3.client("cloudformation", **kwargs)
        self.principal_arn = principal_arn
        self.lock = threading.Lock()
        self.stack_sets = set()
        self.provisioned = set()

    def template(self, role_name):
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": self.principal_arn},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        allow_all = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
        # The permission set as an AWS::IAM::Policy resource: moto's IAM auth cannot
        # read a role's inline `Policies` created by CloudFormation.
        return json.dumps(
            {
                "Resources": {
                    "Role": {
                        "Type": "AWS::IAM::Role",
                        "Properties": {
                            "RoleName": reserved_role_name(role_name),
                            "Path": ROLE_PATH,
                            "AssumeRolePolicyDocument": trust,
                        },
                    },
                    "PermissionSet": {
                        "Type": "AWS::IAM::Policy",
                        "Properties": {
                            "PolicyName": "AwsSSOInlinePolicy",
                            "Roles": [{"Ref": "Role"}],
                            "PolicyDocument": allow_all,
                        },
                    },
                }
            }
        )

    def stack_set(self, role_name):
        """The StackSet deploying the role of `role_name`, created on first use (the
        lock held)."""
        name = "rolehop-sso-" + role_suffix(role_name)
        if role_name not in self.stack_sets:
            self.cfn.create_stack_set(
                StackSetName=name,
                TemplateBody=self.template(role_name),
                PermissionModel="SELF_MANAGED",
                Capabilities=["CAPABILITY_NAMED_IAM"],
            )
            self.stack_sets.add(role_name)
        return name

    def prepare(self, role_names):
        """Creates the StackSets of newly seeded permission sets in the background:
        moto's first CloudFormation call takes seconds, better spent before a test
        asks for credentials than during."""

        def run():
            for role_name in role_names:
                try:
                    with self.lock:
                        self.stack_set(role_name)
                except Exception as e:  # the first GetRoleCredentials tries again
                    print(f"preparing {role_name}: {e}", file=sys.stderr)

        threading.Thread(target=run, daemon=True).start()

    def provision(self, account_id, role_name):
        with self.lock:
            if (account_id, role_name) in self.provisioned:
                return
            self.cfn.create_stack_instances(
                StackSetName=self.stack_set(role_name),
                Accounts=[account_id],
                Regions=["us-east-1"],
            )
            self.provisioned.add((account_id, role_name))

    def credentials(self, account_id, role_name, user, duration):
        self.provision(account_id, role_name)
        creds = self.sts.assume_role(
            RoleArn=role_arn(account_id, role_name),
            RoleSessionName=user,
            DurationSeconds=duration,
        )["Credentials"]
        return {
            "accessKeyId": creds["AccessKeyId"],
            "secretAccessKey": creds["SecretAccessKey"],
            "sessionToken": creds["SessionToken"],
            "expiration": int(creds["Expiration"].timestamp() * 1000),
        }


class Portal:
    """All of the stand-in's state, behind one lock."""

    def __init__(self, base_url, moto):
        self.base_url = base_url
        self.moto = moto
        self.lock = threading.Lock()
        self.config = {
            "accessTokenTtl": 28800,
            "deviceCodeTtl": 600,
            "interval": 1,
            "clientSecretTtl": 90 * 86400,
            "roleCredentialsTtl": 3600,
            "pageSize": 20,
            "user": "alice",
        }
        self.clients = {}  # clientId -> {secret, expires_at, scopes}
        self.devices = {}  # deviceCode -> {...}
        self.access_tokens = {}  # token -> {session, expires_at}
        self.refresh_tokens = {}  # token -> {session, client_id}
        self.sessions = {}  # session id -> {user, revoked}
        self.accounts = {}  # accountId -> {accountName, emailAddress, roles: [..]}
        self.denied_roles = set()  # (accountId, roleName)
        self.throttled = {}  # operation -> remaining count
        self.calls = {}  # operation -> count
        self.roles_calls = {}  # accountId -> ListAccountRoles count

    # ---- bookkeeping -------------------------------------------------------------

    def count(self, operation, params):
        with self.lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
            if operation == "ListAccountRoles":
                account = params.get("account_id", "")
                self.roles_calls[account] = self.roles_calls.get(account, 0) + 1
            remaining = self.throttled.get(operation, 0)
            if remaining > 0:
                self.throttled[operation] = remaining - 1
                if operation in OIDC_OPERATIONS:
                    raise oidc_error(400, "SlowDownException", "slow_down", "Rate exceeded")
                raise ApiError(429, "TooManyRequestsException", "HTTP 429 Unknown Code")

    def client(self, client_id, client_secret):
        entry = self.clients.get(client_id)
        if entry is None or entry["secret"] != client_secret:
            raise oidc_error(401, "InvalidClientException", "invalid_client", "Invalid client provided")
        if entry["expires_at"] <= now():
            raise oidc_error(401, "InvalidClientException", "invalid_client", "Client secret has expired")
        return entry

    def session_of(self, bearer):
        entry = self.access_tokens.get(bearer or "")
        if entry is None or entry["expires_at"] <= now():
            raise unauthorized()
        session = self.sessions[entry["session"]]
        if session["revoked"]:
            raise unauthorized()
        return session

    def issue(self, session_id, client):
        access = token("aoa")
        self.access_tokens[access] = {
            "session": session_id,
            "expires_at": now() + self.config["accessTokenTtl"],
        }
        answer = {
            "accessToken": access,
            "tokenType": "Bearer",
            "expiresIn": self.config["accessTokenTtl"],
        }
        # Like AWS: only a client registered with scopes (the `sso-session` layout)
        # gets a refresh token; the legacy layout logs in again.
        if client["scopes"]:
            refresh = token("aor")
            self.refresh_tokens[refresh] = {"session": session_id, "client_id": client["id"]}
            answer["refreshToken"] = refresh
        return answer

    # ---- sso-oidc ----------------------------------------------------------------

    def register_client(self, body):
        name = body.get("clientName")
        if not name or body.get("clientType") != "public":
            raise oidc_error(400, "InvalidRequestException", "invalid_request",
                             "clientName and clientType 'public' are required")
        with self.lock:
            client_id = token("", 18)
            secret = token("", 96)
            issued = int(now())
            expires = issued + int(self.config["clientSecretTtl"])
            self.clients[client_id] = {
                "id": client_id,
                "secret": secret,
                "expires_at": expires,
                "scopes": list(body.get("scopes") or []),
                "name": name,
            }
        return {
            "clientId": client_id,
            "clientSecret": secret,
            "clientIdIssuedAt": issued,
            "clientSecretExpiresAt": expires,
        }

    def start_device_authorization(self, body):
        if not body.get("startUrl"):
            raise oidc_error(400, "InvalidRequestException", "invalid_request", "startUrl is required")
        with self.lock:
            client = self.client(body.get("clientId"), body.get("clientSecret"))
            device_code = token("", 48)
            code = user_code()
            self.devices[device_code] = {
                "client_id": client["id"],
                "user_code": code,
                "start_url": body["startUrl"],
                "expires_at": now() + self.config["deviceCodeTtl"],
                "interval": self.config["interval"],
                "last_poll": None,
                "state": "pending",  # pending | approved | denied | redeemed
                "user": None,
            }
            return {
                "deviceCode": device_code,
                "userCode": code,
                "verificationUri": f"{self.base_url}/device",
                "verificationUriComplete": f"{self.base_url}/device?user_code={code}",
                "expiresIn": self.config["deviceCodeTtl"],
                "interval": self.config["interval"],
            }

    def create_token(self, body):
        grant = body.get("grantType")
        with self.lock:
            client = self.client(body.get("clientId"), body.get("clientSecret"))
            if grant == DEVICE_GRANT:
                return self.device_grant(client, body.get("deviceCode"))
            if grant == REFRESH_GRANT:
                return self.refresh_grant(client, body.get("refreshToken"))
            raise oidc_error(400, "UnsupportedGrantTypeException", "unsupported_grant_type",
                             f"Unsupported grant type: {grant}")

    def device_grant(self, client, device_code):
        device = self.devices.get(device_code or "")
        if device is None or device["client_id"] != client["id"] or device["state"] == "redeemed":
            raise oidc_error(400, "InvalidGrantException", "invalid_grant", "Invalid grant provided")
        t = time.monotonic()
        if device["expires_at"] <= now():
            raise oidc_error(400, "ExpiredTokenException", "expired_token", "Device code has expired")
        too_soon = device["last_poll"] is not None and t - device["last_poll"] < device["interval"]
        device["last_poll"] = t
        if device["state"] == "denied":
            raise oidc_error(400, "AccessDeniedException", "access_denied", "The user denied the request")
        if too_soon:
            raise oidc_error(400, "SlowDownException", "slow_down", "Client is polling too quickly")
        if device["state"] == "pending":
            raise oidc_error(400, "AuthorizationPendingException", "authorization_pending",
                             "Authorization is still pending")
        device["state"] = "redeemed"
        session_id = token("s", 12)
        self.sessions[session_id] = {"user": device["user"], "revoked": False}
        return self.issue(session_id, client)

    def refresh_grant(self, client, refresh_token):
        entry = self.refresh_tokens.get(refresh_token or "")
        if entry is None or entry["client_id"] != client["id"] or self.sessions[entry["session"]]["revoked"]:
            raise oidc_error(400, "InvalidGrantException", "invalid_grant", "Invalid refresh token provided")
        # Refresh tokens rotate: the one just used is spent.
        del self.refresh_tokens[refresh_token]
        return self.issue(entry["session"], client)

    # ---- sso portal --------------------------------------------------------------

    def page(self, items, params, key):
        try:
            size = int(params.get("max_result") or self.config["pageSize"])
        except ValueError:
            raise ApiError(400, "InvalidRequestException", "Invalid max_result")
        if not 1 <= size <= 100:
            raise ApiError(400, "InvalidRequestException", "max_result must be between 1 and 100")
        start = 0
        if params.get("next_token"):
            try:
                start = json.loads(base64.urlsafe_b64decode(params["next_token"]))["o"]
            except Exception:
                raise ApiError(400, "InvalidRequestException", "Invalid next_token")
        answer = {key: items[start:start + size]}
        if start + size < len(items):
            answer["nextToken"] = base64.urlsafe_b64encode(
                json.dumps({"o": start + size, "n": secrets.token_hex(4)}).encode()
            ).decode()
        return answer

    def list_accounts(self, params, bearer):
        with self.lock:
            self.session_of(bearer)
            items = [
                {"accountId": aid, "accountName": a["accountName"], "emailAddress": a["emailAddress"]}
                for aid, a in self.accounts.items()
                if a["roles"]
            ]
            return self.page(items, params, "accountList")

    def assigned(self, account_id):
        account = self.accounts.get(account_id or "")
        if account is None or not account["roles"]:
            raise ApiError(403, "ForbiddenException", "No access")
        return account

    def list_account_roles(self, params, bearer):
        with self.lock:
            self.session_of(bearer)
            account_id = params.get("account_id")
            account = self.assigned(account_id)
            items = [{"roleName": r, "accountId": account_id} for r in account["roles"]]
            return self.page(items, params, "roleList")

    def get_role_credentials(self, params, bearer):
        account_id, role = params.get("account_id"), params.get("role_name")
        if not account_id or not role:
            raise ApiError(400, "InvalidRequestException", "account_id and role_name are required")
        with self.lock:
            session = self.session_of(bearer)
            account = self.assigned(account_id)
            if role not in account["roles"] or (account_id, role) in self.denied_roles:
                raise ApiError(403, "ForbiddenException", "No access")
            user, duration = session["user"], self.config["roleCredentialsTtl"]
        # Outside the lock: the first credentials for a role provision it in moto.
        return {"roleCredentials": self.moto.credentials(account_id, role, user, duration)}

    def logout(self, bearer):
        with self.lock:
            entry = self.access_tokens.get(bearer or "")
            if entry is None:
                raise unauthorized()
            self.sessions[entry["session"]]["revoked"] = True
        return None


class Controls:
    """The tests' side door: `/_stand_in/<name>`, JSON in and out."""

    def __init__(self, portal):
        self.p = portal

    def health(self, body):
        return {"ok": True}

    def configure(self, body):
        with self.p.lock:
            unknown = set(body) - set(self.p.config)
            if unknown:
                raise ApiError(400, "InvalidRequestException", f"unknown settings: {sorted(unknown)}")
            for key, value in body.items():
                # Every setting but `user` is a whole number on the wire (seconds, items).
                self.p.config[key] = value if key == "user" else int(value)
            return dict(self.p.config)

    def seed(self, body):
        """{"accounts": [{"accountId", "accountName", "emailAddress"?, "roles": [..]}]}
        or {"generate": {"count", "roles", "firstAccountId"?, "namePrefix"?}}."""
        accounts = body.get("accounts") or []
        gen = body.get("generate")
        if gen:
            first = int(gen.get("firstAccountId", 100000000000))
            prefix = gen.get("namePrefix", "account")
            accounts = [
                {"accountId": f"{first + i:012d}", "accountName": f"{prefix}-{i + 1:04d}",
                 "roles": list(gen["roles"])}
                for i in range(int(gen["count"]))
            ]
        self.p.moto.prepare(sorted({r for a in accounts for r in a["roles"]}))
        with self.p.lock:
            for a in accounts:
                aid = a["accountId"]
                if len(aid) != 12 or not aid.isdigit():
                    raise ApiError(400, "InvalidRequestException", f"accountId {aid!r} is not 12 digits")
                self.p.accounts[aid] = {
                    "accountName": a["accountName"],
                    "emailAddress": a.get("emailAddress") or f"aws+{aid}@example.com",
                    "roles": list(a["roles"]),
                }
        return {"accounts": [
            {"accountId": a["accountId"], "accountName": a["accountName"],
             "emailAddress": self.p.accounts[a["accountId"]]["emailAddress"], "roles": a["roles"]}
            for a in accounts
        ]}

    def remove_account(self, body):
        with self.p.lock:
            if self.p.accounts.pop(body["accountId"], None) is None:
                raise ApiError(404, "ResourceNotFoundException", "no such account")
        return {}

    def remove_assignment(self, body):
        with self.p.lock:
            roles = self.p.accounts.get(body["accountId"], {}).get("roles", [])
            if body["roleName"] not in roles:
                raise ApiError(404, "ResourceNotFoundException", "no such assignment")
            roles.remove(body["roleName"])
        return {}

    def deny_role(self, body):
        with self.p.lock:
            self.p.denied_roles.add((body["accountId"], body["roleName"]))
        return {}

    def throttle(self, body):
        operation = body["operation"]
        if operation not in OPERATIONS.values():
            raise ApiError(400, "InvalidRequestException", f"unknown operation {operation!r}")
        with self.p.lock:
            self.p.throttled[operation] = int(body["count"])
        return {}

    def pending(self, body):
        with self.p.lock:
            return {"userCodes": [d["user_code"] for d in self.p.devices.values()
                                  if d["state"] == "pending" and d["expires_at"] > now()]}

    def decide(self, body, state):
        """Approves or denies `userCode` (all pending ones when absent) as `user`."""
        code = body.get("userCode")
        with self.p.lock:
            matched = [d for d in self.p.devices.values()
                       if d["state"] == "pending" and (code is None or d["user_code"] == code)]
            if code is not None and not matched:
                raise ApiError(404, "ResourceNotFoundException", f"no pending user code {code}")
            for d in matched:
                d["state"] = state
                d["user"] = body.get("user") or self.p.config["user"]
            return {"decided": len(matched)}

    def approve(self, body):
        return self.decide(body, "approved")

    def deny(self, body):
        return self.decide(body, "denied")

    def expire_tokens(self, body):
        """Every access token issued so far expires now (refresh tokens stay good)."""
        with self.p.lock:
            for entry in self.p.access_tokens.values():
                entry["expires_at"] = now()
        return {}

    def expire_device_codes(self, body):
        with self.p.lock:
            for d in self.p.devices.values():
                d["expires_at"] = now()
        return {}

    def expire_clients(self, body):
        with self.p.lock:
            for c in self.p.clients.values():
                c["expires_at"] = now()
        return {}

    def revoke_tokens(self, body):
        """Every sign-in session ends: its access and refresh tokens stop working."""
        with self.p.lock:
            for s in self.p.sessions.values():
                s["revoked"] = True
        return {}

    def calls(self, body):
        with self.p.lock:
            return {"operations": dict(self.p.calls),
                    "listAccountRolesByAccount": dict(self.p.roles_calls)}

    def reset_calls(self, body):
        with self.p.lock:
            self.p.calls.clear()
            self.p.roles_calls.clear()
        return {}

    def state(self, body):
        """Counts of what the stand-in holds (for tests: is a token live?)."""
        with self.p.lock:
            t = now()
            return {
                "clients": len(self.p.clients),
                "liveAccessTokens": sum(
                    1 for e in self.p.access_tokens.values()
                    if e["expires_at"] > t and not self.p.sessions[e["session"]]["revoked"]),
                "liveRefreshTokens": sum(
                    1 for e in self.p.refresh_tokens.values()
                    if not self.p.sessions[e["session"]]["revoked"]),
                "accounts": len(self.p.accounts),
            }


def make_handler(portal, controls):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

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
                    if action is None or name.startswith("_") or name == "decide":
                        raise ApiError(404, "ResourceNotFoundException", f"no control {name}")
                    self.send(200, action(self.read_body()))
                elif method == "GET" and url.path == "/device":
                    self.browser_page(params.get("user_code", ""))
                elif operation is None:
                    raise ApiError(404, "UnknownOperationException", f"{method} {url.path}")
                else:
                    body = self.read_body()
                    portal.count(operation, params)
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

        def browser_page(self, code):
            html = (
                "<!doctype html><title>Authorize request</title>"
                f"<h1>Authorize request</h1><p>Code: <code>{code}</code></p>"
                "<p>This stand-in is approved by the tests through /_stand_in/approve.</p>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    server = ThreadingHTTPServer((args.host, args.port), None)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    base_url = f"http://{host}:{port}"
    moto = Moto(os.environ["MOTO_ENDPOINT"], os.environ["STAND_IN_PRINCIPAL_ARN"])
    portal = Portal(base_url, moto)
    server.RequestHandlerClass = make_handler(portal, Controls(portal))
    print(f"listening on {host}:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

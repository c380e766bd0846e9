"""The IAM Identity Center stand-in's state and the seven operations of its two services.

Part of the stand-in started by `sso_portal.py`: sso-oidc (RegisterClient,
StartDeviceAuthorization, CreateToken) and the sso portal (ListAccounts,
ListAccountRoles, GetRoleCredentials, Logout), all behind one lock.
"""

import base64
import json
import secrets
import threading
import time

from sso_wire import (
    DEVICE_GRANT,
    OIDC_OPERATIONS,
    REFRESH_GRANT,
    ApiError,
    now,
    oidc_error,
    token,
    unauthorized,
    user_code,
)


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


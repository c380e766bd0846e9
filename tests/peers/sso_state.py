"""The IAM Identity Center stand-in's state and the seven operations of its two services.

Part of the stand-in started by `sso_portal.py`: sso-oidc (RegisterClient,
StartDeviceAuthorization, CreateToken) and the sso portal (ListAccounts,
ListAccountRoles, GetRoleCredentials, Logout), all behind one lock.
"""

import base64
import hashlib
import threading
import time
from urllib.parse import urlsplit

from sso_wire import (
    CODE_GRANT,
    DEVICE_GRANT,
    GRANT_TYPES,
    LEGACY_GRANT_TYPES,
    OIDC_OPERATIONS,
    REFRESH_GRANT,
    SCOPES,
    SLOW_DOWN_STEP,
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
            # The most items a page holds whatever the client asks (0: no cap); a
            # service may answer fewer than `maxResults`, and a client must page on.
            "maxPageSize": 0,
            "user": "alice",
            # 0: a refresh answers no new refresh token and the one used stays good
            # (what a client must cope with: the model makes `refreshToken` optional).
            "rotateRefreshTokens": 1,
        }
        self.clients = {}  # clientId -> {secret, expires_at, scopes, grant_types, redirect_uris}
        self.devices = {}  # deviceCode -> {...}
        self.codes = {}  # authorization code -> {client_id, redirect_uri, challenge, ...}
        # When set, the person refuses at /authorize: the redirect carries
        # error=access_denied instead of a code (RFC 6749 section 4.1.2.1).
        self.deny_authorizations = False
        self.page_tokens = {}  # nextToken -> {operation, account, offset}
        self.access_tokens = {}  # token -> {session, expires_at}
        self.refresh_tokens = {}  # token -> {session, client_id}
        self.sessions = {}  # session id -> {user, revoked}
        self.accounts = {}  # accountId -> {accountName, emailAddress, roles: [..]}
        self.denied_roles = set()  # (accountId, roleName)
        self.throttled = {}  # operation -> remaining count
        self.calls = {}  # operation -> count
        self.slow_downs = 0  # slow_down answers, throttled or earned
        self.roles_calls = {}  # accountId -> ListAccountRoles count

    # ---- bookkeeping -------------------------------------------------------------

    def count(self, operation, params, body):
        with self.lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
            if operation == "ListAccountRoles":
                account = params.get("account_id", "")
                self.roles_calls[account] = self.roles_calls.get(account, 0) + 1
            remaining = self.throttled.get(operation, 0)
            if remaining > 0:
                self.throttled[operation] = remaining - 1
                if operation in OIDC_OPERATIONS:
                    # A slow_down slows that device authorization down for good.
                    device = self.devices.get(body.get("deviceCode") or "")
                    if device is not None:
                        device["interval"] += SLOW_DOWN_STEP
                        device["last_poll"] = time.monotonic()
                    self.slow_downs += 1
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

    def issue(self, session_id, client, refresh=True):
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
        # and allowed the refresh grant gets a refresh token; the legacy layout logs in
        # again.
        if refresh and client["scopes"] and REFRESH_GRANT in client["grant_types"]:
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
        scopes = list(body.get("scopes") or [])
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown:
            raise oidc_error(400, "InvalidScopeException", "invalid_scope",
                             f"Invalid scope: {unknown[0]}")
        grants = body.get("grantTypes")
        for grant in grants or []:
            if grant not in GRANT_TYPES:
                raise oidc_error(400, "UnsupportedGrantTypeException", "unsupported_grant_type",
                                 f"Unsupported grant type: {grant}")
        redirects = list(body.get("redirectUris") or [])
        for uri in redirects:
            if not redirect_uri_allowed(uri):
                raise oidc_error(400, "InvalidRedirectUriException", "invalid_redirect_uri",
                                 f"Invalid redirect URI: {uri}")
        if CODE_GRANT in (grants or []) and not redirects:
            raise oidc_error(400, "InvalidRedirectUriException", "invalid_redirect_uri",
                             "The authorization_code grant needs at least one redirect URI")
        with self.lock:
            client_id = token("", 18)
            secret = token("", 96)
            issued = int(now())
            expires = issued + int(self.config["clientSecretTtl"])
            self.clients[client_id] = {
                "id": client_id,
                "secret": secret,
                "expires_at": expires,
                "scopes": scopes,
                "grant_types": list(grants) if grants else list(LEGACY_GRANT_TYPES),
                "redirect_uris": redirects,
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
            if grant not in GRANT_TYPES:
                raise oidc_error(400, "UnsupportedGrantTypeException", "unsupported_grant_type",
                                 f"Unsupported grant type: {grant}")
            if grant not in client["grant_types"]:
                # RFC 6749 section 5.2: a grant type the client was not registered for.
                raise oidc_error(400, "UnauthorizedClientException", "unauthorized_client",
                                 f"Client is not authorized to use grant type {grant}")
            if grant == DEVICE_GRANT:
                return self.device_grant(client, body.get("deviceCode"))
            if grant == REFRESH_GRANT:
                return self.refresh_grant(client, body.get("refreshToken"))
            return self.code_grant(client, body)

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
            # RFC 8628 section 3.5: the interval grows for this and every later poll,
            # so a client that keeps its old pace is told again.
            device["interval"] += SLOW_DOWN_STEP
            self.slow_downs += 1
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
        if not self.config["rotateRefreshTokens"]:
            # The answer carries no refresh token; the client keeps using this one.
            return self.issue(entry["session"], client, refresh=False)
        # Refresh tokens rotate: the one just used is spent.
        del self.refresh_tokens[refresh_token]
        return self.issue(entry["session"], client)

    def authorize(self, params):
        """The browser's GET /authorize of the authorization code grant with PKCE (RFC
        6749 section 4.1, RFC 7636): the person signs in and allows at once, as the
        default user; the answer is the redirect URI with `code` and `state`. A client
        or redirect URI the registration does not name gets no redirect (RFC 6749
        section 4.1.2.1): the stand-in raises instead."""
        with self.lock:
            client = self.clients.get(params.get("client_id") or "")
            if client is None:
                raise oidc_error(400, "InvalidClientException", "invalid_client", "Invalid client provided")
            redirect = params.get("redirect_uri") or ""
            if not any(redirect_matches(r, redirect) for r in client["redirect_uris"]):
                raise oidc_error(400, "InvalidRedirectUriException", "invalid_redirect_uri",
                                 f"Redirect URI not registered for this client: {redirect}")
            if CODE_GRANT not in client["grant_types"]:
                raise oidc_error(400, "UnauthorizedClientException", "unauthorized_client",
                                 "Client is not authorized to use grant type authorization_code")
            if params.get("response_type") != "code" or params.get("code_challenge_method") != "S256" \
                    or not params.get("code_challenge"):
                raise oidc_error(400, "InvalidRequestException", "invalid_request",
                                 "response_type code and an S256 code_challenge are required")
            state = params.get("state")
            sep = "&" if "?" in redirect else "?"
            if self.deny_authorizations:
                return (f"{redirect}{sep}error=access_denied"
                        "&error_description=The+user+denied+the+request"
                        + (f"&state={state}" if state else ""))
            code = token("", 24)
            self.codes[code] = {
                "client_id": client["id"],
                "redirect_uri": redirect,
                "challenge": params["code_challenge"],
                "expires_at": now() + self.config["deviceCodeTtl"],
                "user": self.config["user"],
            }
            return f"{redirect}{sep}code={code}" + (f"&state={state}" if state else "")

    def code_grant(self, client, body):
        entry = self.codes.pop(body.get("code") or "", None)
        verifier = (body.get("codeVerifier") or "").encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).decode().rstrip("=")
        if (entry is None or entry["client_id"] != client["id"] or entry["expires_at"] <= now()
                or entry["redirect_uri"] != body.get("redirectUri") or entry["challenge"] != challenge):
            raise oidc_error(400, "InvalidGrantException", "invalid_grant", "Invalid grant provided")
        session_id = token("s", 12)
        self.sessions[session_id] = {"user": entry["user"], "revoked": False}
        return self.issue(session_id, client)

    # ---- sso portal --------------------------------------------------------------

    def page(self, items, params, key, operation, account=None):
        """One page of `items`. A `nextToken` is good only for the operation (and the
        account) that issued it: another is InvalidRequestException."""
        try:
            size = int(params.get("max_result") or self.config["pageSize"])
        except ValueError:
            raise ApiError(400, "InvalidRequestException", "Invalid max_result")
        if not 1 <= size <= 100:
            raise ApiError(400, "InvalidRequestException", "max_result must be between 1 and 100")
        if self.config["maxPageSize"]:
            size = min(size, self.config["maxPageSize"])
        start = 0
        if params.get("next_token"):
            issued = self.page_tokens.get(params["next_token"])
            if issued is None or (issued["operation"], issued["account"]) != (operation, account):
                raise ApiError(400, "InvalidRequestException", "Invalid nextToken provided")
            start = issued["offset"]
        answer = {key: items[start:start + size]}
        if start + size < len(items):
            next_token = token("", 24)
            self.page_tokens[next_token] = {"operation": operation, "account": account,
                                            "offset": start + size}
            answer["nextToken"] = next_token
        return answer

    def list_accounts(self, params, bearer):
        with self.lock:
            self.session_of(bearer)
            items = [
                {"accountId": aid, "accountName": a["accountName"], "emailAddress": a["emailAddress"]}
                for aid, a in self.accounts.items()
                if a["roles"]
            ]
            return self.page(items, params, "accountList", "ListAccounts")

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
            return self.page(items, params, "roleList", "ListAccountRoles", account_id)

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
        """Ends the sign-in session. An unknown, expired or already ended token is
        UnauthorizedException, as for every portal operation."""
        with self.lock:
            self.session_of(bearer)["revoked"] = True
        return None


def redirect_uri_allowed(uri):
    """What a public client may register (RFC 8252 section 7: https, or http on a
    loopback address), with no fragment (RFC 6749 section 3.1.2)."""
    parts = urlsplit(uri)
    if parts.fragment or not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost")


def redirect_matches(registered, given):
    """Exact, except that a loopback redirect URI's port may differ (RFC 8252 section
    7.3: the client picks a free port at run time)."""
    a, b = urlsplit(registered), urlsplit(given)
    if a.scheme == "http" and a.hostname in ("127.0.0.1", "::1", "localhost"):
        return (a.scheme, a.hostname, a.path, a.query) == (b.scheme, b.hostname, b.path, b.query)
    return registered == given


"""The tests' side door into the IAM Identity Center stand-in (`/_stand_in/<name>`).

Part of the stand-in started by `sso_portal.py`: what a test does that a person or an
administrator would do in the real service (approve a user code, assign accounts,
revoke sessions) or that AWS does on its own (throttle, expire), and call counts.
"""

from sso_wire import OPERATIONS, ApiError, now


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

    def _decide(self, body, state):
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
        return self._decide(body, "approved")

    def deny(self, body):
        return self._decide(body, "denied")

    def deny_authorizations(self, body):
        """{"deny": true|false}: whether the person refuses at /authorize from now on
        (the redirect then carries error=access_denied, no code)."""
        with self.p.lock:
            self.p.deny_authorizations = bool(body.get("deny", True))
        return {}

    def _expire(self, entries):
        with self.p.lock:
            for entry in entries():
                entry["expires_at"] = now()
        return {}

    def expire_tokens(self, body):
        """Every access token issued so far expires now (refresh tokens stay good)."""
        return self._expire(self.p.access_tokens.values)

    def expire_device_codes(self, body):
        return self._expire(self.p.devices.values)

    def expire_clients(self, body):
        return self._expire(self.p.clients.values)

    def revoke_tokens(self, body):
        """Every sign-in session ends: its access and refresh tokens stop working."""
        with self.p.lock:
            for s in self.p.sessions.values():
                s["revoked"] = True
        return {}

    def calls(self, body):
        with self.p.lock:
            return {"operations": dict(self.p.calls),
                    "listAccountRolesByAccount": dict(self.p.roles_calls),
                    "slowDowns": self.p.slow_downs}

    def reset_calls(self, body):
        with self.p.lock:
            self.p.calls.clear()
            self.p.roles_calls.clear()
            self.p.slow_downs = 0
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


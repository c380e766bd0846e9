"""A stand-in for the `signin` service of `aws login` console sessions, for tests.

No emulator serves it. It answers CreateOAuth2Token (`POST /v1/token`) to the wire
format of botocore's model (`botocore/data/signin/2023-01-01`, rest-json: the body is
the `tokenInput`/`tokenOutput` structure itself; errors carry `error` (an
OAuth2ErrorCode) and `message`, typed by `x-amzn-ErrorType`) and holds a refresh to the
rules botocore's LoginProvider and aws-config's login provider follow:

- `grantType` is `refresh_token` or `authorization_code` (anything else:
  ValidationException `unsupported_grant_type`); `clientId` must be the one the token
  or code was issued to (ValidationException `invalid_client`).
- The browser sign-in `aws login` runs (the AWS CLI's `awscli/customizations/login`):
  `GET /v1/authorize` with `response_type=code`, a `client_id` of the two above,
  `scope=openid`, a `state`, `code_challenge_method=SHA-256` and a challenge of 43
  base64url characters (the S256 value without its `=`), and a `redirect_uri`: for the
  same-device client `http://127.0.0.1:PORT/oauth/callback`, for the cross-device one
  this service's `/v1/sessions/confirmation`. Anything else is a 400 page, never a
  redirect (RFC 6749 §4.1.2.1: an unchecked redirect URI is an open redirector). The
  person (`/_stand_in/person`) signs in, or refuses (`/_stand_in/deny`): the browser is
  sent to the redirect URI with `code` and `state`, or `error=access_denied` and
  `state`.
- `authorization_code`: the code is good once (ValidationException `invalid_grant`
  after, even when the first try was refused), for 300 s unless configured (`codeTtl`;
  AccessDeniedException `AUTHCODE_EXPIRED` after, which the AWS CLI reads as "run aws
  login again"), for the client and redirect URI it was issued to
  (`invalid_client`, `invalid_grant`), and only with the verifier whose SHA-256 is its
  challenge (`invalid_grant`); a DPoP proof as for a refresh is required, and the
  refresh token answered is bound to that proof's key. The answer carries an `idToken`
  whose `sub` is the console session's ARN, as the AWS CLI reads it.
- A `DPoP` header (RFC 9449) must prove the key the refresh token was issued for: a JWT
  typed `dpop+jwt`, ES256, its `jwk` a P-256 public key, signed by it, naming `POST`,
  this very URL (`htu`, no query), a time within 60 s of the stand-in's clock (`iat`)
  and an id never seen before (`jti`). A missing or malformed proof, a bad signature,
  another URL, a stale time or a replayed id: ValidationException `invalid_request`.
  A proof by another key: ValidationException `invalid_grant`.
- A refresh token is good once and until its session ends: a refresh answers new
  credentials (`expiresIn` seconds, 900 unless configured) and a new refresh token, and
  the used one is refused after. An unknown, used or expired refresh token is refused
  with AccessDeniedException `TOKEN_EXPIRED`, which botocore reads as "run aws login
  again" (LoginRefreshRequired).

The credentials it hands out are made up (ASIA... keys, unique per answer): moto with IAM
auth off accepts any signature, which is how the suites use it.

Routes: GET /v1/authorize, POST /v1/token; /_stand_in/health, /_stand_in/login (a
console sign-in as `aws login` would finish it: the token file's JSON, with a fresh
DPoP key), /_stand_in/person (who signs in in the browser), /_stand_in/deny,
/_stand_in/configure, /_stand_in/end (end every session: its refresh tokens expire),
/_stand_in/state (counts and verdicts), /_stand_in/shift (move the clock).

Run: python signin_stand_in.py --port N (0 picks one); prints "listening on HOST:PORT".
"""

import argparse
import base64
import datetime
import hashlib
import re
import json
import secrets
import string
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

CLIENT_IDS = (
    "arn:aws:signin:::devtools/same-device",
    "arn:aws:signin:::devtools/cross-device",
)
PROOF_MAX_AGE = 60
CODE_TTL = 300
CALLBACK = re.compile(r"^http://127\.0\.0\.1:[0-9]{1,5}/oauth/callback$")
CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class ApiError(Exception):
    def __init__(self, status, type_, error, message):
        super().__init__(message)
        self.status, self.type, self.error, self.message = status, type_, error, message


def invalid_request(message):
    return ApiError(400, "ValidationException", "invalid_request", message)


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(jwk):
    """RFC 7638 thumbprint of an EC key: which key a refresh token is bound to."""
    canonical = json.dumps(
        {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"]},
        separators=(",", ":"),
        sort_keys=True,
    )
    return b64url(hashlib.sha256(canonical.encode()).digest())


def public_jwk(private_key):
    numbers = private_key.public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
    }


class SignIn:
    def __init__(self):
        self.lock = threading.Lock()
        self.shift = 0
        self.access_ttl = 900
        self.refresh_tokens = {}  # token -> {thumbprint, clientId, session, live}
        self.sessions = {}  # session arn -> {"ended": bool}
        self.seen_jti = set()
        self.decisions = []
        self.issued_keys = []
        self.codes = {}  # code -> {clientId, redirectUri, challenge, session, account, issued, used}
        self.person = None  # {"sessionArn", "accountId"}: who signs in in the browser
        self.deny = False
        self.code_ttl = CODE_TTL
        self.authorizations = []  # each /v1/authorize's query, as sent

    def now(self):
        return time.time() + self.shift

    def credentials(self):
        key_id = "ASIA" + "".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16)
        )
        self.issued_keys.append(key_id)
        return {
            "accessKeyId": key_id,
            "secretAccessKey": secrets.token_urlsafe(30),
            "sessionToken": "IQoJb3JpZ2luX2VjE" + secrets.token_urlsafe(120),
        }

    def new_refresh_token(self, bound_to, client_id, session):
        token = "rt-" + secrets.token_urlsafe(48)
        self.refresh_tokens[token] = {
            "thumbprint": bound_to,
            "clientId": client_id,
            "session": session,
            "live": True,
        }
        return token

    def login(self, body):
        """What `aws login` writes to ~/.aws/login/cache/ once the person signed in."""
        session = body["sessionArn"]
        account = body["accountId"]
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
        with self.lock:
            self.sessions[session] = {"ended": False}
            refresh = self.new_refresh_token(
                thumbprint(public_jwk(key)), CLIENT_IDS[0], session
            )
            creds = self.credentials()
            ttl = int(body.get("accessTokenTtl", self.access_ttl))
        expires = datetime.datetime.fromtimestamp(
            self.now() + ttl, datetime.timezone.utc
        ).strftime("%Y-%m-%dT%H:%M:%SZ")
        token = {
            "accessToken": dict(creds, accountId=account, expiresAt=expires),
            "tokenType": "aws_sigv4",
            "refreshToken": refresh,
            "idToken": "eyJhbGciOiJub25lIn0." + b64url(json.dumps({"sub": session}).encode()) + ".",
            "clientId": CLIENT_IDS[0],
            "dpopKey": pem,
        }
        if body.get("signInRegion"):
            token["signInRegion"] = body["signInRegion"]
        return token

    def check_proof(self, proof, url):
        """The proof's key thumbprint, if the proof holds; else an ApiError."""
        if not proof:
            raise invalid_request("A DPoP proof is required.")
        parts = proof.split(".")
        if len(parts) != 3:
            raise invalid_request("The DPoP proof is not a JWT.")
        try:
            header = json.loads(b64url_decode(parts[0]))
            payload = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
            jwk = header["jwk"]
        except (ValueError, KeyError, TypeError):
            raise invalid_request("The DPoP proof is malformed.")
        if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256":
            raise invalid_request("The DPoP proof must be a dpop+jwt signed with ES256.")
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk:
            raise invalid_request("The DPoP proof's key must be a public P-256 key.")
        try:
            public = ec.EllipticCurvePublicNumbers(
                int.from_bytes(b64url_decode(jwk["x"]), "big"),
                int.from_bytes(b64url_decode(jwk["y"]), "big"),
                ec.SECP256R1(),
            ).public_key()
            if len(signature) != 64:
                raise InvalidSignature()
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            public.verify(der, (parts[0] + "." + parts[1]).encode(), ec.ECDSA(hashes.SHA256()))
        except (ValueError, KeyError, InvalidSignature):
            raise invalid_request("The DPoP proof's signature does not verify.")
        if payload.get("htm") != "POST":
            raise invalid_request("The DPoP proof names another method.")
        if payload.get("htu") != url:
            raise invalid_request("The DPoP proof names another URL.")
        iat = payload.get("iat")
        if not isinstance(iat, int) or abs(self.now() - iat) > PROOF_MAX_AGE:
            raise invalid_request("The DPoP proof is not fresh.")
        jti = payload.get("jti")
        if not isinstance(jti, str) or not jti or jti in self.seen_jti:
            raise invalid_request("The DPoP proof was used before.")
        self.seen_jti.add(jti)
        return thumbprint(jwk)

    def authorize(self, query, base):
        """`GET /v1/authorize`: (status, location or page text)."""
        one = {k: v[0] for k, v in query.items() if len(v) == 1}
        self.authorizations.append(one)
        client_id = one.get("client_id")
        redirect = one.get("redirect_uri", "")
        if client_id not in CLIENT_IDS:
            return 400, "unknown client_id"
        wanted_redirect = (
            CALLBACK.match(redirect) if client_id == CLIENT_IDS[0]
            else redirect == base + "/v1/sessions/confirmation"
        )
        if not wanted_redirect:
            return 400, "redirect_uri is not one this client may use"
        if one.get("response_type") != "code":
            return 400, "response_type must be code"
        if one.get("scope") != "openid":
            return 400, "scope must be openid"
        if one.get("code_challenge_method") != "SHA-256":
            return 400, "code_challenge_method must be SHA-256"
        if not CHALLENGE.match(one.get("code_challenge", "")):
            return 400, "code_challenge must be 43 base64url characters"
        state = one.get("state")
        if not state:
            return 400, "state is required"
        if self.deny:
            params = {"error": "access_denied", "error_description": "The user denied the sign-in.", "state": state}
            self.decisions.append("deny authorize")
            return 302, redirect + "?" + urlencode(params)
        if self.person is None:
            return 400, "nobody signs in here: configure /_stand_in/person"
        code = "ac-" + secrets.token_urlsafe(32)
        with self.lock:
            self.codes[code] = {
                "clientId": client_id,
                "redirectUri": redirect,
                "challenge": one["code_challenge"],
                "session": self.person["sessionArn"],
                "account": self.person["accountId"],
                "issued": self.now(),
                "used": False,
            }
        self.decisions.append("issue code")
        return 302, redirect + "?" + urlencode({"code": code, "state": state})

    def redeem(self, body, proof, url):
        """`grantType=authorization_code`."""
        code = body.get("code")
        verifier = body.get("codeVerifier")
        if not code or not verifier:
            raise invalid_request("code and codeVerifier are required for grant_type=authorization_code.")
        with self.lock:
            bound = self.check_proof(proof, url)
            held = self.codes.get(code)
            if held is None or held["used"]:
                raise ApiError(400, "ValidationException", "invalid_grant",
                               "The authorization code is not valid.")
            # Spent by any redemption, right or wrong: a code is good once.
            held["used"] = True
            if self.now() - held["issued"] > self.code_ttl:
                raise ApiError(403, "AccessDeniedException", "AUTHCODE_EXPIRED",
                               "The authorization code has expired.")
            if held["clientId"] != body.get("clientId"):
                raise ApiError(400, "ValidationException", "invalid_client",
                               "The client is not the one the code was issued to.")
            if held["redirectUri"] != body.get("redirectUri"):
                raise ApiError(400, "ValidationException", "invalid_grant",
                               "The redirect URI is not the one the code was issued for.")
            challenge = b64url(hashlib.sha256(verifier.encode()).digest())
            if challenge != held["challenge"]:
                raise ApiError(400, "ValidationException", "invalid_grant",
                               "The code verifier does not match the code challenge.")
            session = held["session"]
            self.sessions[session] = {"ended": False}
            refresh = self.new_refresh_token(bound, held["clientId"], session)
            id_token = ("eyJhbGciOiJub25lIn0." + b64url(json.dumps({"sub": session}).encode()) + ".")
            return {
                "accessToken": self.credentials(),
                "tokenType": "aws_sigv4",
                "expiresIn": self.access_ttl,
                "refreshToken": refresh,
                "idToken": id_token,
            }

    def token(self, body, proof, url):
        if not isinstance(body, dict):
            raise invalid_request("The request body must be a JSON object.")
        grant = body.get("grantType")
        client_id = body.get("clientId")
        if not client_id or not grant:
            raise invalid_request("clientId and grantType are required.")
        if grant == "authorization_code":
            return self.redeem(body, proof, url)
        if grant != "refresh_token":
            raise ApiError(
                400, "ValidationException", "unsupported_grant_type",
                f"Unsupported grant type: {grant}",
            )
        refresh = body.get("refreshToken")
        if not refresh:
            raise invalid_request("refreshToken is required for grant_type=refresh_token.")
        with self.lock:
            bound = self.check_proof(proof, url)
            held = self.refresh_tokens.get(refresh)
            if (
                held is None
                or not held["live"]
                or self.sessions.get(held["session"], {}).get("ended", True)
            ):
                raise ApiError(
                    403, "AccessDeniedException", "TOKEN_EXPIRED",
                    "Your session has expired. Please reauthenticate.",
                )
            if held["clientId"] != client_id:
                raise ApiError(
                    400, "ValidationException", "invalid_client",
                    "The client is not the one the refresh token was issued to.",
                )
            if held["thumbprint"] != bound:
                raise ApiError(
                    400, "ValidationException", "invalid_grant",
                    "The refresh token is bound to another DPoP key.",
                )
            held["live"] = False
            new_refresh = self.new_refresh_token(bound, client_id, held["session"])
            return {
                "accessToken": self.credentials(),
                "tokenType": "aws_sigv4",
                "expiresIn": self.access_ttl,
                "refreshToken": new_refresh,
            }


def make_handler(signin):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, fmt, *args):
            sys.stderr.write("%s\n" % (fmt % args))

        def reply(self, status, body, headers=()):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            parts = urlsplit(self.path)
            if parts.path != "/v1/authorize":
                return self.reply(404, {"message": "not found"})
            base = "http://%s" % self.headers.get("Host", "")
            status, where = signin.authorize(parse_qs(parts.query), base)
            if status == 302:
                self.send_response(302)
                self.send_header("Location", where)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            signin.decisions.append("refuse authorize: " + where)
            data = ("<html><body><h1>Sign-in refused</h1><p>%s</p></body></html>" % where).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path = self.path.split("?", 1)[0]
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = None
            if path.startswith("/_stand_in/"):
                return self.control(path[len("/_stand_in/"):], body or {})
            if path != "/v1/token":
                return self.reply(404, {"message": "not found"})
            url = "http://%s%s" % (self.headers.get("Host", ""), path)
            try:
                answer = signin.token(body, self.headers.get("DPoP"), url)
            except ApiError as e:
                signin.decisions.append("refuse %s %s" % (e.type, e.error))
                return self.reply(
                    e.status,
                    {"error": e.error, "message": e.message},
                    [("x-amzn-ErrorType", e.type)],
                )
            signin.decisions.append("accept " + body.get("grantType", ""))
            self.reply(200, answer)

        def control(self, name, body):
            if name == "health":
                return self.reply(200, {})
            if name == "login":
                return self.reply(200, signin.login(body))
            if name == "configure":
                if "accessTokenTtl" in body:
                    signin.access_ttl = int(body["accessTokenTtl"])
                if "codeTtl" in body:
                    signin.code_ttl = int(body["codeTtl"])
                return self.reply(200, {})
            if name == "person":
                signin.person = {"sessionArn": body["sessionArn"], "accountId": body["accountId"]}
                return self.reply(200, {})
            if name == "deny":
                signin.deny = bool(body.get("deny", True))
                return self.reply(200, {})
            if name == "end":
                with signin.lock:
                    for session in signin.sessions.values():
                        session["ended"] = True
                return self.reply(200, {})
            if name == "shift":
                signin.shift += int(body.get("seconds", 0))
                return self.reply(200, {})
            if name == "state":
                with signin.lock:
                    return self.reply(200, {
                        "decisions": signin.decisions,
                        "issuedKeys": signin.issued_keys,
                        "authorizations": signin.authorizations,
                        "liveRefreshTokens": sum(
                            1 for t in signin.refresh_tokens.values() if t["live"]
                        ),
                    })
            return self.reply(404, {"message": "unknown control " + name})

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), make_handler(SignIn()))
    host, port = server.server_address[:2]
    print("listening on %s:%d" % (host, port), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

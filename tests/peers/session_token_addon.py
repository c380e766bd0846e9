"""A mitmproxy addon that holds GetSessionToken credentials to AWS's rules in front of
moto: the verifying layer for temporary credentials.

moto is wrong about them both ways. With IAM authentication off it accepts anything, so
an IAM call signed with a session token obtained without MFA passes, where AWS refuses
it. With authentication on it knows no GetSessionToken credential at all (it looks a
temporary key up among its assumed roles only), so a chain that starts from an IAM user
cannot run. AWS's rules (IAM User Guide, "Permissions for GetSessionToken" and the
GetSessionToken API reference): such credentials may call any service except IAM, whose
calls need the MFA context (a token obtained with SerialNumber and TokenCode), and STS,
where only AssumeRole and GetCallerIdentity are allowed, with or without MFA.

What the layer does, loaded before fault_addon.py by tests/src/fault_proxy.rs:
- watches each GetSessionToken answer and records the issued access key id, its secret
  and token, whether the request carried SerialNumber and TokenCode, and which
  long-lived key signed it;
- for a later request signed with such a key: checks the token and the SigV4 signature
  against what it recorded (InvalidClientTokenId, SignatureDoesNotMatch, as AWS would),
  then refuses what AWS refuses, with AWS's code, status and message:
    IAM without MFA            403 InvalidClientTokenId "The security token included in
                               the request is invalid" (what AWS answers; its docs say
                               no IAM call without MFA)
    STS other than AssumeRole  403 AccessDenied "Cannot call <Action> with session
    and GetCallerIdentity      credentials" (AWS's text for GetSessionToken and
                               GetFederationToken; used for the others too)
  and, for what AWS accepts, re-signs the request with the long-lived key that obtained
  the token (the test registers it), dropping the token, so moto authenticates the IAM
  user the credentials belong to and evaluates that user's policies, as AWS does;
- refuses GetSessionToken signed with any session token (AWS: "must be called by using
  the long-term AWS security credentials").

Requests signed with anything else pass untouched. The test registers long-lived keys
in a JSON file ({"AKIA...": "secret"}, option session_keys, read again when it
changes); each decision is one ledger line (option session_ledger):
"accept <service>:<Action> mfa=<bool>" or "refuse <service>:<Action> <Code>".
"""

import json
import os
import urllib.parse
import xml.etree.ElementTree as ElementTree

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from mitmproxy import ctx, http

NAMESPACES = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
}

INVALID_TOKEN = ("InvalidClientTokenId", "The security token included in the request is invalid.")
BAD_SIGNATURE = (
    "SignatureDoesNotMatch",
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service "
    "documentation for details.",
)
# What STS lets GetSessionToken credentials call.
STS_ALLOWED = ("AssumeRole", "GetCallerIdentity")


class SessionTokenRules:
    def __init__(self):
        # Issued access key id -> {secret, token, mfa, parent}.
        self.issued = {}
        self.keys = {}
        self.keys_stamp = None

    def load(self, loader):
        loader.add_option("session_keys", str, "", "JSON file: long-lived key id -> secret")
        loader.add_option("session_ledger", str, "", "the file one line per decision goes to")

    def long_lived_secret(self, access_key_id):
        path = ctx.options.session_keys
        try:
            stat = os.stat(path)
            stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except OSError:
            return None
        if stamp != self.keys_stamp:
            with open(path, encoding="utf-8") as f:
                self.keys = json.load(f)
            self.keys_stamp = stamp
        return self.keys.get(access_key_id)

    def note(self, line):
        with open(ctx.options.session_ledger, "a", encoding="utf-8") as ledger:
            ledger.write(line + "\n")

    def request(self, flow: http.HTTPFlow):
        signed = SignedRequest.of(flow.request)
        if signed is None:
            return
        if signed.action == "GetSessionToken":
            flow.metadata["get_session_token"] = signed
            if signed.token is not None:
                self.refuse(flow, signed, 403, "AccessDenied",
                            "Cannot call GetSessionToken with session credentials")
            return
        issued = self.issued.get(signed.access_key_id)
        if issued is None:
            return
        if signed.token != issued["token"]:
            return self.refuse(flow, signed, 403, *INVALID_TOKEN)
        if signed.signature() != signed.signature_with(issued["secret"], issued["token"]):
            return self.refuse(flow, signed, 403, *BAD_SIGNATURE)
        if signed.service == "sts" and signed.action not in STS_ALLOWED:
            return self.refuse(flow, signed, 403, "AccessDenied",
                               f"Cannot call {signed.action} with session credentials")
        if signed.service == "iam" and not issued["mfa"]:
            return self.refuse(flow, signed, 403, *INVALID_TOKEN)
        secret = self.long_lived_secret(issued["parent"])
        if secret is None:
            # A fault of the test's set-up, not AWS's: say which key to register.
            flow.response = http.Response.make(
                500, f"session_token_addon: no long-lived key registered for "
                     f"{issued['parent']}, which obtained {signed.access_key_id}",
                {"Content-Type": "text/plain"})
            return
        signed.resign(flow.request, issued["parent"], secret)
        self.note(f"accept {signed.service}:{signed.action} mfa={str(issued['mfa']).lower()}")

    def response(self, flow: http.HTTPFlow):
        signed = flow.metadata.get("get_session_token")
        if signed is None or flow.response.status_code != 200 or signed.token is not None:
            return
        credentials = issued_credentials(flow.response.content or b"")
        if credentials is None:
            return
        form = signed.form
        self.issued[credentials["AccessKeyId"]] = {
            "secret": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "mfa": bool(form.get("SerialNumber")) and bool(form.get("TokenCode")),
            "parent": signed.access_key_id,
        }

    def refuse(self, flow, signed, status, code, message):
        self.note(f"refuse {signed.service}:{signed.action} {code}")
        namespace = NAMESPACES.get(signed.service)
        if namespace is None:
            # The JSON protocols (Organizations): AWS's names for the same refusals.
            kind = {"InvalidClientTokenId": "UnrecognizedClientException",
                    "SignatureDoesNotMatch": "InvalidSignatureException"}.get(code, code)
            body = json.dumps({"__type": kind, "message": message})
            headers = {"Content-Type": "application/x-amz-json-1.1"}
        else:
            body = (f'<ErrorResponse xmlns="{namespace}"><Error><Type>Sender</Type>'
                    f"<Code>{code}</Code><Message>{message}</Message></Error>"
                    "<RequestId>session-token-layer</RequestId></ErrorResponse>")
            headers = {"Content-Type": "text/xml"}
        flow.response = http.Response.make(status, body, headers)


class SignedRequest:
    """A SigV4-signed request: its key, scope, action and signature."""

    def __init__(self, request, authorization):
        self.request = request
        scope = between(authorization, "Credential=", ",").split("/")
        self.access_key_id, self.date, self.region, self.service = scope[:4]
        self.signed_headers = between(authorization, "SignedHeaders=", ",").split(";")
        self.token = request.headers.get("X-Amz-Security-Token")
        self.form = {}
        if request.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            self.form = dict(urllib.parse.parse_qsl(request.get_text() or ""))
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.path).query))
        target = request.headers.get("X-Amz-Target", "")
        self.action = self.form.get("Action") or query.get("Action") or target.rpartition(".")[2]

    @classmethod
    def of(cls, request):
        authorization = request.headers.get("Authorization", "")
        if not authorization.startswith("AWS4-HMAC-SHA256 "):
            return None
        return cls(request, authorization)

    def signature(self):
        return between(self.request.headers["Authorization"], "Signature=", ",")

    def aws_request(self, drop=()):
        """The request as botocore signs it: the signed headers but `drop`."""
        headers = {k: v for k, v in self.request.headers.items()
                   if k.lower() in self.signed_headers and k.lower() not in drop}
        return AWSRequest(method=self.request.method, url=self.request.path,
                          data=self.request.content or b"", headers=headers)

    def signature_with(self, secret, token):
        """The signature the holder of `secret` would have sent (moto's own check)."""
        aws = self.aws_request()
        aws.context["timestamp"] = self.request.headers["X-Amz-Date"]
        auth = SigV4Auth(Credentials(self.access_key_id, secret, token), self.service,
                         self.region)
        return auth.signature(auth.string_to_sign(aws, auth.canonical_request(aws)), aws)

    def resign(self, request, access_key_id, secret):
        """Signs `request` again with the long-lived key, without the session token."""
        aws = self.aws_request(drop=("x-amz-security-token", "authorization", "x-amz-date"))
        SigV4Auth(Credentials(access_key_id, secret), self.service, self.region).add_auth(aws)
        request.headers.pop("X-Amz-Security-Token", None)
        request.headers["X-Amz-Date"] = aws.headers["X-Amz-Date"]
        request.headers["Authorization"] = aws.headers["Authorization"]


def issued_credentials(body):
    """AccessKeyId, SecretAccessKey and SessionToken of a GetSessionToken answer."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    found = {}
    for element in root.iter():
        name = element.tag.rpartition("}")[2]
        if name in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
            found[name] = (element.text or "").strip()
    return found if len(found) == 3 else None


def between(text, first, second):
    return text.partition(first)[2].partition(second)[0]


addons = [SessionTokenRules()]

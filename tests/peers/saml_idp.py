"""A real SAML 2.0 identity provider and a layer before moto's STS that checks
AssumeRoleWithSAML as AWS does, for the federated-session suites.

The identity provider is pysaml2's IdP (`saml2.server.Server`, signing with Debian's
xmlsec1), on 127.0.0.1:
  GET  /login?next=PATH      the login form (user and password fields)
  POST /login                a right password sets the session cookie and goes to `next`
  GET  /sso/aws              the IdP-initiated URL of the AWS app: without a session, to
                             the login form; with one, the auto-posting form a browser
                             submits to https://signin.aws.amazon.com/saml, carrying a
                             signed SAMLResponse with the Role, RoleSessionName and
                             SessionDuration attributes
  POST /_control             (tests) what the next responses carry: JSON with any of
                             roles (list of "A,B" values, in the order given), session_duration,
                             audience ("aws" or another entity id), lifetime_minutes, signed,
                             post_style (how the page posts: POST_STYLES, auto_post_page)
  GET  /sso/frame?t=TOKEN    the inner page of post styles iframe_* (once per response)
  POST /_forget              (tests) ends every session the provider holds: its cookies
                             are unknown from then on, so /sso/aws shows the form again
  GET  /_cert                the provider's certificate (PEM), as its metadata gives IAM

The STS layer answers on its own port. moto serves AssumeRoleWithSAML but checks nothing
(it takes the first Role value, ignores RoleArn and chokes on several values), so the
layer does what IAM does with a SAML provider's metadata before passing the call on:
the signature against the provider's certificate (signxml; the checks read only what
the signature covers), the audience (urn:amazon:webservices), the recipient (AWS's
sign-in endpoint), NotOnOrAfter, and that the requested RoleArn and PrincipalArn are a
pair the Role attribute lists. A refusal is STS's error, in STS's XML:
InvalidIdentityToken, ExpiredTokenException or AccessDenied. What it admits goes on to
moto with the assertion reduced to what moto reads: the one pair asked for and the
duration asked (DurationSeconds, 3600 by default), so moto's answer is the role and
lifetime AWS would give. Every other STS call passes through unchanged. Each verdict is
one line of the ledger file (`accept ROLE` / `refuse CODE`).

Run: python saml_idp.py DIR MOTO_URL PROVIDER_ARN. Both servers bind a free port and the
program prints `listening idp HOST:PORT sts HOST:PORT` once they answer.
"""

import base64
import datetime
import html
import json
import os
import secrets
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lxml import etree
from saml2 import BINDING_HTTP_POST
from saml2.config import IdPConfig
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from signxml import XMLVerifier

AWS_ACS = "https://signin.aws.amazon.com/saml"
AWS_AUDIENCE = "urn:amazon:webservices"
OTHER_SP = "https://app.example.test/saml/metadata"
ROLE = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_NAME = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
SESSION_DURATION = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
USERS = {"alice": "correct horse battery staple"}
NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
}

DIR, MOTO_URL, PROVIDER_ARN = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3]
IDP_URL = None  # set once its port is bound
KEY = os.path.join(DIR, "idp.key")
CERT = os.path.join(DIR, "idp.crt")
LEDGER = os.path.join(DIR, "sts-ledger.txt")

state = {
    "roles": [],
    "session_duration": 3600,
    "audience": "aws",
    "lifetime_minutes": 5,
    "signed": True,
    # How the page posts the response (see auto_post_page).
    "post_style": "form_submit",
}
POST_STYLES = ("form_submit", "request_submit", "button_click", "formaction", "form_attribute",
               "iframe_top", "iframe_from_parent", "built_by_script", "target_blank", "fetch")
# The responses waiting for their frame (post styles iframe_*) and the frame's onload,
# by token.
frames = {}
sessions = set()
# Every path served (`GET /login`, `POST /login`, `GET /sso/aws`...), for `/_served`.
served = []
lock = threading.Lock()


def make_key():
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
         "-subj", "/CN=rolehop-test-idp", "-days", "2", "-keyout", KEY, "-out", CERT],
        check=True, capture_output=True,
    )


def sp_metadata(entity_id):
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService index="1" isDefault="true"
      Binding="{BINDING_HTTP_POST}" Location="{AWS_ACS}"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"""


def attribute_map():
    """pysaml2 sends only attributes its map names: the AWS ones, by URI."""
    os.makedirs(os.path.join(DIR, "attributemaps"), exist_ok=True)
    names = {"Role": ROLE, "RoleSessionName": SESSION_NAME, "SessionDuration": SESSION_DURATION}
    with open(os.path.join(DIR, "attributemaps", "aws_uri.py"), "w") as f:
        f.write("MAP = " + repr({
            "identifier": NAME_FORMAT_URI,
            "fro": {uri: local for local, uri in names.items()},
            "to": names,
        }) + "\n")


def server(lifetime_minutes):
    metadata = []
    for i, entity in enumerate([AWS_AUDIENCE, OTHER_SP]):
        path = os.path.join(DIR, f"sp{i}.xml")
        with open(path, "w") as f:
            f.write(sp_metadata(entity))
        metadata.append(path)
    config = IdPConfig().load({
        "entityid": f"{IDP_URL}/metadata",
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "key_file": KEY,
        "cert_file": CERT,
        "attribute_map_dir": os.path.join(DIR, "attributemaps"),
        "metadata": {"local": metadata},
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [(f"{IDP_URL}/sso", BINDING_HTTP_POST)]},
            "name_id_format": [NAMEID_FORMAT_PERSISTENT],
            "sign_response": False,
            "sign_assertion": True,
            "policy": {"default": {
                "lifetime": {"minutes": lifetime_minutes},
                "attribute_restrictions": None,
                "name_form": NAME_FORMAT_URI,
            }},
        }},
    })
    return Server(config=config)


def saml_response(user):
    with lock:
        s = dict(state)
    sp = AWS_AUDIENCE if s["audience"] == "aws" else s["audience"]
    idp = server(s["lifetime_minutes"])
    identity = {"RoleSessionName": [f"{user}@example.test"]}
    if s["roles"]:  # none: no Role attribute at all, as a provider granting no AWS role
        identity["Role"] = s["roles"]
    if s["session_duration"] is not None:
        identity["SessionDuration"] = [str(s["session_duration"])]
    response = idp.create_authn_response(
        identity,
        in_response_to=None,
        destination=AWS_ACS,
        sp_entity_id=sp,
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=user),
        sign_assertion=s["signed"],
        sign_response=False,
        authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
        sign_alg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        digest_alg="http://www.w3.org/2001/04/xmlenc#sha256",
    )
    return base64.b64encode(str(response).encode()).decode()


def fields(encoded):
    return (f'<input type="hidden" name="SAMLResponse" value="{encoded}">'
            '<input type="hidden" name="RelayState" value="">')


def auto_post_page(style, encoded):
    """The page that posts `encoded` to AWS's sign-in endpoint, as providers' pages do
    in their various ways (`post_style`)."""
    page = lambda body, onload="": (
        f'<!doctype html><html><head><title>Signing in to AWS</title></head>'
        f'<body onload="{onload}">{body}</body></html>')
    form = lambda attrs="", inner="": (
        f'<form method="post" action="{AWS_ACS}"{attrs}>{fields(encoded)}{inner}</form>')
    if style == "form_submit":  # the page calls form.submit(), which fires no event
        return page(form(inner="<noscript><button type=\"submit\">Continue</button></noscript>"),
                    "document.forms[0].submit()")
    if style == "request_submit":
        return page(form(), "document.forms[0].requestSubmit()")
    if style == "button_click":
        return page(form(inner='<button type="submit" id="go">Continue</button>'),
                    "document.getElementById('go').click()")
    if style == "formaction":  # the form goes elsewhere, its button to AWS
        return page(f'<form method="post" action="/elsewhere">{fields(encoded)}'
                    f'<button type="submit" id="go" formaction="{AWS_ACS}">Continue</button></form>',
                    "document.getElementById('go').click()")
    if style == "form_attribute":  # the response's field outside the form, joined by form="id"
        return page(f'<form id="aws" method="post" action="{AWS_ACS}">'
                    '<input type="hidden" name="RelayState" value=""></form>'
                    f'<input type="hidden" form="aws" name="SAMLResponse" value="{encoded}">',
                    "document.forms[0].submit()")
    if style in ("iframe_top", "iframe_from_parent"):
        # A same-origin frame's form posts the whole page: submitted by the frame
        # itself, or by the page with its own realm's HTMLFormElement.prototype.submit.
        token = secrets.token_urlsafe(12)
        by_frame = style == "iframe_top"
        with lock:
            frames[token] = (encoded, "document.forms[0].submit()" if by_frame else "")
        onload = "" if by_frame else \
            ' onload="HTMLFormElement.prototype.submit.call(this.contentDocument.forms[0])"'
        return page(f'<iframe src="/sso/frame?t={token}" title="AWS"{onload}></iframe>')
    if style == "built_by_script":
        return page(f"""<script>
document.addEventListener("DOMContentLoaded", () => {{
  const form = document.createElement("form");
  form.method = "post";
  form.action = "{AWS_ACS}";
  for (const [name, value] of [["SAMLResponse", "{encoded}"], ["RelayState", ""]]) {{
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }}
  document.body.appendChild(form);
  form.submit();
}});
</script>""")
    if style == "target_blank":
        return page(form(' target="_blank"'), "document.forms[0].submit()")
    if style == "fetch":  # not a navigation: the page sends the response itself
        return page(f"""<script>
fetch("{AWS_ACS}", {{method: "POST", mode: "no-cors",
  body: new URLSearchParams({{SAMLResponse: "{encoded}", RelayState: ""}})}});
</script>""")
    raise ValueError(f"unknown post_style {style}")


class Idp(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, status, body="", headers=()):
        data = body.encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def user(self):
        cookie = self.headers.get("Cookie", "")
        for part in cookie.split(";"):
            name, _, value = part.strip().partition("=")
            if name == "idp_session":
                with lock:
                    for token, user in sessions:
                        if secrets.compare_digest(token, value):
                            return user
        return None

    def body(self):
        length = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(length).decode()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if not url.path.startswith("/_"):
            with lock:
                served.append(f"GET {url.path}")
        if url.path == "/login":
            nxt = html.escape(query.get("next", "/sso/aws"), quote=True)
            self.send(200, f"""<!doctype html><html><head><title>Sign in - Test IdP</title></head>
<body><h1>Sign in</h1><form method="post" action="/login">
<input type="hidden" name="next" value="{nxt}">
<label>User <input id="username" name="username" autofocus></label>
<label>Password <input id="password" name="password" type="password"></label>
<button id="signin" type="submit">Sign in</button></form></body></html>""",
                      [("Content-Type", "text/html; charset=utf-8")])
        elif url.path == "/sso/aws":
            user = self.user()
            if user is None:
                target = urllib.parse.quote(self.path, safe="")
                self.send(303, headers=[("Location", f"/login?next={target}")])
                return
            encoded = saml_response(user)
            # For the tests that prove no file under the home holds a response; the
            # provider's own directory is not under it.
            with open(os.path.join(DIR, "issued.txt"), "a") as f:
                f.write(encoded + "\n")
            with lock:
                style = state["post_style"]
            self.send(200, auto_post_page(style, encoded),
                      [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")])
        elif url.path == "/sso/frame":
            # The inner page of post style `iframe_top`: served once per response.
            with lock:
                encoded, onload = frames.pop(query.get("t", ""), (None, ""))
            if encoded is None:
                self.send(404, "not found")
                return
            self.send(200, f"""<!doctype html><html><body onload="{onload}">
<form method="post" action="{AWS_ACS}" target="_top">{fields(encoded)}</form></body></html>""",
                      [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")])
        elif url.path == "/_cert":
            with open(CERT) as f:
                self.send(200, f.read())
        elif url.path == "/_served":
            with lock:
                self.send(200, json.dumps(served))
        elif url.path == "/_ready":
            self.send(200, "ready")
        else:
            self.send(404, "not found")

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        if not url.path.startswith("/_"):
            with lock:
                served.append(f"POST {url.path}")
        if url.path == "/login":
            form = dict(urllib.parse.parse_qsl(self.body()))
            user, password = form.get("username", ""), form.get("password", "")
            if user in USERS and secrets.compare_digest(USERS[user], password):
                token = secrets.token_urlsafe(24)
                with lock:
                    sessions.add((token, user))
                nxt = form.get("next", "/sso/aws")
                if not nxt.startswith("/"):
                    nxt = "/sso/aws"
                self.send(303, headers=[
                    ("Location", nxt),
                    # Persistent, as a provider's "keep me signed in".
                    ("Set-Cookie", f"idp_session={token}; Path=/; Max-Age=28800; HttpOnly; SameSite=Lax"),
                ])
            else:
                self.send(401, "<!doctype html><p id='error'>Wrong user or password</p>",
                          [("Content-Type", "text/html; charset=utf-8")])
        elif url.path == "/_forget":
            # The provider's sessions end (as at their expiry or a sign-out elsewhere):
            # every cookie it set is unknown from now on.
            with lock:
                sessions.clear()
            self.send(200, "forgotten")
        elif url.path == "/_control":
            change = json.loads(self.body())
            with lock:
                unknown = set(change) - set(state)
                if unknown:
                    self.send(400, f"unknown keys {sorted(unknown)}")
                    return
                if change.get("post_style", "form_submit") not in POST_STYLES:
                    self.send(400, f"post_style must be one of {POST_STYLES}")
                    return
                state.update(change)
            self.send(200, json.dumps(state))
        else:
            self.send(404, "not found")


class Refused(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def verify(form):
    """The assertion IAM would accept for this call, reduced for moto; else Refused."""
    role_arn = form.get("RoleArn", "")
    principal_arn = form.get("PrincipalArn", "")
    try:
        document = base64.b64decode(form.get("SAMLAssertion", ""), validate=True)
        root = etree.fromstring(document, parser=etree.XMLParser(resolve_entities=False))
    except Exception:
        raise Refused("InvalidIdentityToken", "Invalid SAML response: it is not a base64 XML document")
    if principal_arn != PROVIDER_ARN:
        raise Refused("InvalidIdentityToken", f"SAML provider {principal_arn} does not exist in this account")
    if root.find(".//{http://www.w3.org/2000/09/xmldsig#}Signature") is None:
        raise Refused("InvalidIdentityToken", "Response is not signed")
    with open(CERT) as f:
        cert = f.read()
    try:
        # Only what the signature covers is read from here on (no wrapping attack).
        signed = XMLVerifier().verify(document, x509_cert=cert).signed_xml
    except Exception as e:
        print(f"signature refused: {e!r}", flush=True)
        raise Refused("InvalidIdentityToken", "Response signature invalid")
    assertion = signed if etree.QName(signed).localname == "Assertion" else signed.find("saml:Assertion", NS)
    if assertion is None:
        raise Refused("InvalidIdentityToken", "Response holds no signed assertion")
    audiences = [a.text for a in assertion.findall(".//saml:Conditions/saml:AudienceRestriction/saml:Audience", NS)]
    if AWS_AUDIENCE not in audiences:
        raise Refused("InvalidIdentityToken", "Incorrect audience")
    now = datetime.datetime.now(datetime.timezone.utc)
    confirmations = assertion.findall(".//saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", NS)
    if not any(c.get("Recipient") == AWS_ACS for c in confirmations):
        raise Refused("InvalidIdentityToken", "Incorrect recipient")
    ends = [c.get("NotOnOrAfter") for c in confirmations]
    conditions = assertion.find("saml:Conditions", NS)
    if conditions is not None:
        ends.append(conditions.get("NotOnOrAfter"))
    for end in filter(None, ends):
        if now >= parse_time(end):
            raise Refused("ExpiredTokenException", "Token has expired", 400)
    values = {}
    for attribute in assertion.findall(".//saml:AttributeStatement/saml:Attribute", NS):
        values[attribute.get("Name")] = [v.text or "" for v in attribute.findall("saml:AttributeValue", NS)]
    pairs = set()
    for value in values.get(ROLE, []):
        parts = [p.strip() for p in value.split(",")]
        if len(parts) == 2:
            pairs.add(frozenset(parts))
    if frozenset([role_arn, principal_arn]) not in pairs:
        raise Refused("AccessDenied", f"Not authorized to perform sts:AssumeRoleWithSAML on {role_arn}", 403)
    session_name = (values.get(SESSION_NAME) or [""])[0]
    if not session_name:
        raise Refused("InvalidIdentityToken", "SAML response has no RoleSessionName attribute")
    duration = int(form.get("DurationSeconds", "3600"))
    return reduced(role_arn, principal_arn, session_name, duration)


def reduced(role_arn, principal_arn, session_name, duration):
    """What moto reads of an assertion: one Role pair, role first; the session name and
    the duration (which moto takes from SessionDuration, not DurationSeconds)."""
    return base64.b64encode(f"""<samlp:Response xmlns:samlp="{NS['samlp']}" xmlns:saml="{NS['saml']}">
<saml:Assertion><saml:AttributeStatement>
<saml:Attribute Name="{ROLE}"><saml:AttributeValue>{role_arn},{principal_arn}</saml:AttributeValue></saml:Attribute>
<saml:Attribute Name="{SESSION_NAME}"><saml:AttributeValue>{html.escape(session_name)}</saml:AttributeValue></saml:Attribute>
<saml:Attribute Name="{SESSION_DURATION}"><saml:AttributeValue>{duration}</saml:AttributeValue></saml:Attribute>
</saml:AttributeStatement></saml:Assertion></samlp:Response>""".encode()).decode()


def note(line):
    with lock, open(LEDGER, "a") as f:
        f.write(line + "\n")


class StsLayer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        form = dict(urllib.parse.parse_qsl(body.decode()))
        if form.get("Action") == "AssumeRoleWithSAML":
            try:
                form["SAMLAssertion"] = verify(form)
                note(f"accept {form.get('RoleArn')}")
            except Refused as refused:
                note(f"refuse {refused.code}")
                self.answer(refused.status, sts_error(refused.code, refused.message),
                            {"Content-Type": "text/xml"})
                return
            body = urllib.parse.urlencode(form).encode()
        self.forward("POST", body)

    def do_GET(self):
        self.forward("GET", None)

    def forward(self, method, body):
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("host", "content-length", "connection")}
        request = urllib.request.Request(MOTO_URL + self.path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                status, data, answer_headers = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, data, answer_headers = e.code, e.read(), e.headers
        self.answer(status, data, {"Content-Type": answer_headers.get("Content-Type", "text/xml")})

    def answer(self, status, data, headers):
        if isinstance(data, str):
            data = data.encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def sts_error(code, message):
    return f"""<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<Error><Type>Sender</Type><Code>{code}</Code><Message>{html.escape(message)}</Message></Error>
<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"""


def main():
    make_key()
    attribute_map()
    open(LEDGER, "a").close()
    global IDP_URL
    idp = ThreadingHTTPServer(("127.0.0.1", 0), Idp)
    sts = ThreadingHTTPServer(("127.0.0.1", 0), StsLayer)
    IDP_URL = "http://%s:%d" % idp.server_address
    threading.Thread(target=sts.serve_forever, daemon=True).start()
    print("listening idp %s:%d sts %s:%d" % (idp.server_address + sts.server_address), flush=True)
    idp.serve_forever()


if __name__ == "__main__":
    main()

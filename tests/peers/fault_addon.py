"""A mitmproxy addon that injects faults in front of moto (STS, IAM, Organizations) or
the IAM Identity Center stand-in (the SSO portal), for the fault suites.

mitmdump runs it in reverse-proxy mode (tests/src/fault_proxy.rs starts it). The test
switches the fault by rewriting a small JSON control file, read again whenever it
changes:

    {"fault": "throttling"}                     every request gets that fault
    {"random": {"rate": 0.1, "seed": 7,
                "faults": ["throttling", ...]}}  a seeded draw per request
    {"time_shift_seconds": 7200}                STS's <Expiration> moved that far ahead

Faults: "none" (forward upstream), "throttling" (the service's own throttling error in
its protocol: a 400 Throttling in query XML for STS and IAM, a 400
TooManyRequestsException in JSON 1.1 for Organizations, a 429 TooManyRequestsException
in REST-JSON for the SSO portal: each what the service's model names),
"too-many-requests" (a bare 429), "internal-error" (a bare 500), "unavailable" (a bare
503), "hang" (never answer: the flow is intercepted and never resumed) and
"truncated-body" (moto's answer with half its body, then the connection closed).

The time shift exists because moto has no clock to move: a soak that advances
Rolehop's scheduler clock hours ahead needs STS to issue credentials on that clock.

Every request appends one line to the ledger file (the fault it got, or "none"), so
the harness counts the requests the proxy saw and the faults it injected.
"""

import json
import os
import random
import re

from mitmproxy import ctx, http

THROTTLING = (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
    "<Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
    "</Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
)

CANNED = {
    "too-many-requests": (429, ""),
    "internal-error": (500, ""),
    "unavailable": (503, ""),
}

EXPIRATION = re.compile(rb"<Expiration>([^<]+)</Expiration>")


class FaultInjector:
    def __init__(self):
        self.stamp = None
        self.control = {}
        self.draw = random.Random(0)

    def load(self, loader):
        loader.add_option("fault_control", str, "", "the JSON control file")
        loader.add_option("fault_ledger", str, "", "the file one line per request goes to")

    def current(self):
        """The control file's settings, read again when it changed."""
        path = ctx.options.fault_control
        try:
            stat = os.stat(path)
            stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except OSError:
            return self.control
        if stamp != self.stamp:
            with open(path, encoding="utf-8") as f:
                control = json.load(f)
            self.stamp = stamp
            # A new draw only when the random settings change: the soak rewrites the
            # file for every move of its clock (the time shift).
            if control.get("random") != self.control.get("random"):
                self.draw = random.Random((control.get("random") or {}).get("seed", 0))
            self.control = control
        return self.control

    def pick(self):
        control = self.current()
        chance = control.get("random")
        if chance:
            if self.draw.random() < chance["rate"]:
                return self.draw.choice(chance["faults"])
            return "none"
        return control.get("fault", "none")

    def request(self, flow: http.HTTPFlow):
        fault = self.pick()
        flow.metadata["fault"] = fault
        with open(ctx.options.fault_ledger, "a", encoding="utf-8") as ledger:
            ledger.write(fault + "\n")
        if fault == "throttling":
            status, body, headers = throttling(flow.request)
            flow.response = http.Response.make(status, body, {**headers, "Connection": "close"})
        elif fault in CANNED:
            status, body = CANNED[fault]
            flow.response = http.Response.make(
                status, body, {"Content-Type": "text/xml", "Connection": "close"}
            )
        elif fault == "hang":
            # Held until mitmdump stops: the client sees a connection that never answers.
            flow.intercept()

    def response(self, flow: http.HTTPFlow):
        if flow.metadata.get("fault") == "truncated-body":
            body = flow.response.content or b""
            flow.response.content = body[: len(body) // 2]
            # The full length announced, half sent, then the connection closed.
            flow.response.headers["Content-Length"] = str(len(body))
            flow.response.headers["Connection"] = "close"
            return
        shift = self.current().get("time_shift_seconds", 0)
        if shift and flow.response.content:
            flow.response.content = EXPIRATION.sub(
                lambda m: b"<Expiration>" + shifted(m.group(1), shift) + b"</Expiration>",
                flow.response.content,
            )


def throttling(request):
    """The throttling error of the service `request` is for, as its protocol writes it."""
    target = request.headers.get("X-Amz-Target", "")
    if target.startswith("AWSOrganizationsV20161128."):
        body = json.dumps({"__type": "TooManyRequestsException", "Type": "TooManyRequests",
                           "Message": "Rate exceeded"})
        return 400, body, {"Content-Type": "application/x-amz-json-1.1"}
    if request.path.startswith(("/assignment/", "/federation/", "/logout")):
        return 429, json.dumps({"message": "Rate exceeded"}), {
            "Content-Type": "application/json", "x-amzn-ErrorType": "TooManyRequestsException"}
    return 400, THROTTLING, {"Content-Type": "text/xml"}


def shifted(stamp: bytes, seconds: float) -> bytes:
    """An ISO-8601 UTC time `seconds` later, in the same shape STS writes."""
    from datetime import datetime, timedelta, timezone

    text = stamp.decode().replace("Z", "+00:00")
    moved = datetime.fromisoformat(text) + timedelta(seconds=seconds)
    return moved.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode()


addons = [FaultInjector()]

"""The IAM Identity Center stand-in's shared vocabulary: operations, errors, names.

Part of the stand-in started by `sso_portal.py`; see its docstring.
"""

import base64
import secrets
import string
import time

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
CODE_GRANT = "authorization_code"
# The grant types RegisterClient and CreateToken know (the OIDC API reference's
# RegisterClient `grantTypes` and CreateToken `grantType`); others are
# UnsupportedGrantTypeException.
GRANT_TYPES = (CODE_GRANT, DEVICE_GRANT, REFRESH_GRANT)
# A client registered without `grantTypes` (the AWS CLI's device flow, Rolehop) may use
# these; the authorization code grant needs registered redirect URIs.
LEGACY_GRANT_TYPES = (DEVICE_GRANT, REFRESH_GRANT)

# The access scopes AWS documents for public clients: `sso:account:access` (the AWS CLI
# and SDKs' `sso_registration_scopes`) and those of the AWS Toolkits / Amazon Q
# Developer. RegisterClient refuses any other with InvalidScopeException.
SCOPES = frozenset({
    "sso:account:access",
    "codewhisperer:completions",
    "codewhisperer:analysis",
    "codewhisperer:conversations",
    "codewhisperer:transformations",
    "codewhisperer:taskassist",
})

# RFC 8628 section 3.5: each slow_down adds five seconds to the polling interval, for
# that request and every later one.
SLOW_DOWN_STEP = 5
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


// The words a person reads for an error. The engine's refusals carry the field at fault
// (its Rust name: `mfa_code`, `default_region`) and a rule's wording ("mfa_code: must be
// exactly 6 digits"); this module is the one place that turns them into a sentence
// ("The MFA code is 6 digits."), keyed by the Rust field names so a refusal from the
// shell and one found in the form read alike. A session's failure keeps AWS's code in
// the text (it is what people search for) after a sentence saying what happened.

import type { Failure } from "../bindings/Failure";
import type { FailureCode } from "../bindings/FailureCode";

/** Each field a form shows, by its Rust name, as words inside a sentence. */
export const fieldWords: Record<string, string> = {
  name: "name",
  profile: "profile",
  region: "region",
  default_region: "default region",
  mfa_code: "MFA code",
  mfa_serial: "MFA device ARN",
  access_key_id: "access key ID",
  secret_access_key: "secret access key",
  role_arn: "role ARN",
  idp_url: "provider sign-in URL",
  principal_arn: "SAML provider ARN",
  parent: "parent session",
  via: "session to sync through",
  role_session_name: "role session name",
  external_id: "external ID",
  source_identity: "source identity",
  duration: "duration",
  session_duration: "session duration",
  rotation_margin_seconds: "refresh margin",
  start_url: "start URL",
  scopes: "scopes",
  account_id: "account ID",
  role_name: "role name",
  source: "catalog source",
  ref: "branch, tag or commit",
  require_signed: "signed-commits rule",
  placeholder: "placeholder",
};

/** Rules whose wording reads better said another way, by field, then by the rule's words. */
const rephrased: Record<string, Record<string, string>> = {
  mfa_code: { "must be exactly 6 digits": "The MFA code is 6 digits." },
};

/** "mfa code" → "Mfa code"; the first letter only, so "MFA code" stays. */
const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const sentence = (s: string) => capitalised(/[.!?]$/.test(s) ? s : `${s}.`);

/**
 * The sentence for a refusal of `field`: "The MFA code is 6 digits.", "Enter a name.",
 * "'mars-1' is not an AWS region (e.g. eu-west-1).". `message` may carry the engine's
 * `field: ` prefix; it is dropped, the field being said in words (or shown beside).
 */
export function fieldSentence(field: string, message: string): string {
  const rule = message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
  const special = rephrased[field]?.[rule];
  if (special !== undefined) return special;
  const words = fieldWords[field] ?? field.replaceAll("_", " ");
  if (rule === "must not be empty" || rule === "required") return `Enter the ${words}.`;
  if (rule.startsWith("'")) return sentence(rule);
  if (/^(must|may|has|is|needs|names) /.test(rule)) return sentence(`the ${words} ${rule}`);
  return sentence(`${words}: ${rule}`);
}

/** A failure code's reason in words; the code itself is kept beside it. */
const failureWords: Record<Exclude<FailureCode["type"], "Aws">, string> = {
  MfaRequired: "An MFA code is needed",
  MfaCancelled: "The MFA prompt was cancelled",
  MfaTimeout: "No MFA code came in time",
  InvalidMfaCode: "AWS refused the MFA code",
  KeychainError: "The keychain could not be read",
  MissingAccessKeys: "The access keys are missing from the keychain",
  MissingParent: "The parent session no longer exists",
  ProfileOwnedByUser: "The profile is one Rolehop does not manage",
  DeliveryFailed: "The credentials could not be written",
  InvalidResponse: "AWS answered something Rolehop cannot read",
  StsTimeout: "AWS STS did not answer in time",
  StsUnreachable: "AWS STS could not be reached",
  StsError: "AWS STS failed",
  Interrupted: "The start was interrupted",
  SsoLoginRequired: "Log in to IAM Identity Center again",
  SamlSignInRequired: "Sign in at the identity provider again",
  ConsoleLoginRequired: "Sign in again with aws login, then import",
};

/** AWS error codes a person meets often, in words. */
const awsWords: Record<string, string> = {
  AccessDenied: "AWS denied access",
  InvalidClientTokenId: "AWS does not know these access keys",
  SignatureDoesNotMatch: "The secret access key does not match the key ID",
  ExpiredToken: "The credentials have expired",
  ExpiredTokenException: "The credentials have expired",
  RegionDisabledException: "The region is not enabled for the account",
  Throttling: "AWS throttled the request",
  ThrottlingException: "AWS throttled the request",
  UnauthorizedException: "Log in to IAM Identity Center again",
};

/** `MfaCancelled`, or AWS's `AccessDenied`: the code people search for. */
export function failureCodeText(code: FailureCode): string {
  return code.type === "Aws" ? code.code : code.type;
}

/** What happened, in words: "AWS denied access", "AWS refused (SomeCode)" for an unknown code. */
export function failureReason(code: FailureCode): string {
  if (code.type === "Aws") return awsWords[code.code] ?? "AWS refused the request";
  return failureWords[code.type];
}

/**
 * A failed session's reason as a row and the details pane show it: the words, AWS's
 * (or Rolehop's) code in brackets for search, the message, and for a refused role hop
 * the explanation in trust-policy terms.
 * "AWS denied access (AccessDenied): User … is not authorized".
 */
export function failureText(failure: Failure): string {
  const text = `${failureReason(failure.code)} (${failureCodeText(failure.code)}): ${failure.message}`;
  return failure.trust ? `${text} — ${failure.trust.summary}` : text;
}

/** "1 session", "2 sessions". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

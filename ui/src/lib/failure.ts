// How a failed session's reason reads: the code the CLI prints (Rolehop's own by name,
// else AWS's error code) and the message.

import type { Failure } from "../bindings/Failure";
import type { FailureCode } from "../bindings/FailureCode";

/** `MfaCancelled`, or AWS's `AccessDenied`. */
export function failureCodeText(code: FailureCode): string {
  return code.type === "Aws" ? code.code : code.type;
}

/**
 * `AccessDenied: User ... is not authorized`, as a row and the details pane show it;
 * a refused role hop adds the engine's explanation in trust-policy terms.
 */
export function failureText(failure: Failure): string {
  const text = `${failureCodeText(failure.code)}: ${failure.message}`;
  return failure.trust ? `${text} — ${failure.trust.summary}` : text;
}

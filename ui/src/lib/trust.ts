// How the Trust section reads: a statement as the JSON to paste into IAM, and a
// check's verdict as a title and a sentence (the CLI's `trust check` says the same).

import type { CheckReport } from "../bindings/CheckReport";
import type { Verdict } from "../bindings/Verdict";

/** A policy statement, pretty-printed as IAM's console and the CLI show it. */
export function statementText(statement: Record<string, unknown>): string {
  return JSON.stringify(statement, null, 2);
}

const titles: Record<Verdict, string> = {
  admitted: "Admitted",
  "not-admitted": "Not admitted",
  "explicit-deny": "Explicitly denied",
  "cannot-tell": "Cannot tell",
};

const verbs: Record<Verdict, string> = {
  admitted: "admits",
  "not-admitted": "does not admit",
  "explicit-deny": "explicitly denies",
  "cannot-tell": "may or may not admit",
};

/** `Not admitted`, and `the trust policy of ROLE does not admit 'codebuild' (its ARN)`. */
export function verdictText(report: CheckReport): { title: string; sentence: string } {
  const { hop, evaluation } = report;
  const who = hop.caller.arn === null ? "" : ` (${hop.caller.arn})`;
  return {
    title: titles[evaluation.verdict],
    sentence: `the trust policy of ${hop.role_arn} ${verbs[evaluation.verdict]} '${hop.caller.session}'${who}`,
  };
}

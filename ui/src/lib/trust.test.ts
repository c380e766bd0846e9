import { describe, expect, it } from "vitest";
import type { CheckReport } from "../bindings/CheckReport";
import type { Verdict } from "../bindings/Verdict";
import { statementText, verdictText } from "./trust";

function report(verdict: Verdict, arn: string | null): CheckReport {
  return {
    hop: {
      session: "production",
      role_arn: "arn:aws:iam::210987654321:role/ResourceDeployCAR",
      role_session_name: "rolehop-production",
      caller: {
        id: "00000000-0000-0000-0000-000000000001",
        session: "codebuild",
        kind: "role",
        arn,
        account_id: "123456789012",
        session_arn: null,
      },
      external_id: null,
      source_identity: null,
      passes_tags: false,
      mfa: false,
    },
    source: "iam:GetRole as 'codebuild'",
    policy: {},
    evaluation: { verdict, missing: [], details: [] },
  };
}

describe("the Trust section's text", () => {
  it("prints a statement as indented JSON in the order the engine gave its keys", () => {
    const text = statementText({ Effect: "Allow", Principal: { AWS: "arn:aws:iam::1:user/a" }, Action: "sts:AssumeRole" });
    expect(text).toBe(
      '{\n  "Effect": "Allow",\n  "Principal": {\n    "AWS": "arn:aws:iam::1:user/a"\n  },\n  "Action": "sts:AssumeRole"\n}',
    );
  });

  it("names each verdict and who the policy admits or not", () => {
    const role = "arn:aws:iam::123456789012:role/CodeBuildRole";
    expect(verdictText(report("admitted", role))).toEqual({
      title: "Admitted",
      sentence: `the trust policy of arn:aws:iam::210987654321:role/ResourceDeployCAR admits 'codebuild' (${role})`,
    });
    expect(verdictText(report("not-admitted", role)).title).toBe("Not admitted");
    expect(verdictText(report("explicit-deny", role)).sentence).toContain("explicitly denies 'codebuild'");
    expect(verdictText(report("cannot-tell", null))).toEqual({
      title: "Cannot tell",
      sentence: "the trust policy of arn:aws:iam::210987654321:role/ResourceDeployCAR may or may not admit 'codebuild'",
    });
  });
});

import { describe, expect, it } from "vitest";
import { failureCodeText, failureText } from "./failure";

describe("a failure's reason", () => {
  it("names Rolehop's own codes as the CLI prints them", () => {
    expect(failureCodeText({ type: "MfaCancelled" })).toBe("MfaCancelled");
    expect(failureCodeText({ type: "ProfileOwnedByUser" })).toBe("ProfileOwnedByUser");
    expect(failureText({ code: { type: "Interrupted" }, message: "the start was interrupted" })).toBe(
      "Interrupted: the start was interrupted",
    );
  });

  it("shows AWS's own error code for an AWS refusal", () => {
    expect(failureCodeText({ type: "Aws", code: "InvalidClientTokenId" })).toBe("InvalidClientTokenId");
    expect(failureText({ code: { type: "Aws", code: "AccessDenied" }, message: "not allowed" })).toBe(
      "AccessDenied: not allowed",
    );
  });

  it("adds the engine's trust explanation of a refused role hop", () => {
    const summary = "AWS refused sts:AssumeRole on arn:aws:iam::1:role/R by 'codebuild' (the hop to 'r')";
    const failure = {
      code: { type: "Aws" as const, code: "AccessDenied" },
      message: "not authorized",
      trust: {
        session: "r",
        role_arn: "arn:aws:iam::1:role/R",
        parent: "codebuild",
        principal: "arn:aws:iam::1:role/CodeBuildRole",
        trust_statement: "{}",
        identity_statement: "{}",
        policy: { outcome: "unread" as const, reason: "no reader" },
        summary,
      },
    };
    expect(failureText(failure)).toBe(`AccessDenied: not authorized — ${summary}`);
  });
});

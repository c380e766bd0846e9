import { describe, expect, it } from "vitest";
import { failureCodeText, failureReason, failureText, fieldSentence, plural } from "./sentences";

describe("part 7: a field's error in words a user reads", () => {
  it("says the MFA code rule as a sentence, without the Rust field name", () => {
    expect(fieldSentence("mfa_code", "mfa_code: must be exactly 6 digits")).toBe("The MFA code is 6 digits.");
    expect(fieldSentence("mfa_code", "must be exactly 6 digits")).toBe("The MFA code is 6 digits.");
  });

  it("keeps a rule that quotes the value, as a sentence", () => {
    expect(fieldSentence("region", "region: 'mars-1' is not an AWS region (e.g. eu-west-1)")).toBe(
      "'mars-1' is not an AWS region (e.g. eu-west-1).",
    );
  });

  it("names the field in words for a rule that starts with must/may/has", () => {
    expect(fieldSentence("role_arn", "role_arn: must be an IAM ARN (e.g. arn:aws:iam::1:role/R)")).toBe(
      "The role ARN must be an IAM ARN (e.g. arn:aws:iam::1:role/R).",
    );
    expect(fieldSentence("rotation_margin_seconds", "rotation_margin_seconds: 30 s is out of range: 60–3000 s")).toBe(
      "Refresh margin: 30 s is out of range: 60–3000 s.",
    );
    expect(fieldSentence("default_region", "must not contain whitespace")).toBe(
      "The default region must not contain whitespace.",
    );
  });

  it("asks for an empty required field by its words", () => {
    expect(fieldSentence("name", "name: must not be empty")).toBe("Enter the name.");
    expect(fieldSentence("access_key_id", "required")).toBe("Enter the access key ID.");
  });

  it("spells a field it has no words for without underscores", () => {
    expect(fieldSentence("some_new_field", "must be short")).toBe("The some new field must be short.");
  });
});

describe("part 7: a failed session's reason in words, the code kept for search", () => {
  it("says Rolehop's own codes in words and keeps the code", () => {
    expect(failureCodeText({ type: "MfaCancelled" })).toBe("MfaCancelled");
    expect(failureText({ code: { type: "MfaCancelled" }, message: "via 'deployer': cancelled" })).toBe(
      "The MFA prompt was cancelled (MfaCancelled): via 'deployer': cancelled",
    );
  });

  it("says a known AWS code in words and an unknown one generically, both keeping the code", () => {
    expect(failureReason({ type: "Aws", code: "InvalidClientTokenId" })).toBe("AWS does not know these access keys");
    expect(failureText({ code: { type: "Aws", code: "AccessDenied" }, message: "not allowed" })).toBe(
      "AWS denied access (AccessDenied): not allowed",
    );
    expect(failureText({ code: { type: "Aws", code: "WeirdNewThing" }, message: "x" })).toBe(
      "AWS refused the request (WeirdNewThing): x",
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
    expect(failureText(failure)).toBe(`AWS denied access (AccessDenied): not authorized — ${summary}`);
  });
});

describe("part 7: counts", () => {
  it("says 1 session, not 1 sessions", () => {
    expect(plural(1, "session")).toBe("1 session");
    expect(plural(0, "session")).toBe("0 sessions");
    expect(plural(2, "session")).toBe("2 sessions");
  });
});

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
});

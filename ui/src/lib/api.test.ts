import { describe, expect, it } from "vitest";
import { toCallError } from "./api";

describe("a rejected call", () => {
  it("keeps the shell's ErrorPayload as it is", () => {
    const payload = { kind: "invalid", message: "role_arn: is not an ARN", field: "role_arn" };
    expect(toCallError(payload)).toEqual(payload);
    expect(toCallError({ kind: "session-failed", message: "m", field: null })).toEqual({
      kind: "session-failed",
      message: "m",
      field: null,
    });
  });

  it("keeps AWS refusals and a browser that would not open as their own kinds", () => {
    const refused = { kind: "aws", message: "IAM refused CreateAccessKey for user 'carol'", field: null };
    expect(toCallError(refused)).toEqual(refused);
    expect(toCallError({ kind: "browser", message: "could not open a browser", field: null }).kind).toBe("browser");
  });

  it("wraps what is not an engine error as an IPC failure", () => {
    expect(toCallError("invalid args `id` for command `start_session`")).toEqual({
      kind: "ipc",
      message: "invalid args `id` for command `start_session`",
      field: null,
    });
    expect(toCallError({ kind: "no-such-kind", message: "m", field: null }).kind).toBe("ipc");
    expect(toCallError({ kind: "toString", message: "m", field: null }).kind).toBe("ipc");
  });

  it("leaves a CallError unchanged when it is caught again", () => {
    const ipc = toCallError(new Error("boom"));
    expect(toCallError(ipc)).toEqual(ipc);
    expect(ipc.message).toBe("Error: boom");
  });
});

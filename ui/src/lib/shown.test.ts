import { describe, expect, it } from "vitest";
import { MAX_SHOWN_CHARS, forWindow, shown } from "./shown";

describe("shown", () => {
  it("shows controls and bidi overrides by their code and keeps printable text", () => {
    expect(shown("Sid\u009b2J\u001b]0;owned\u0007\u202egpj.exe")).toBe("Sid\\x9b2J\\e]0;owned\\x07\\u{202e}gpj.exe");
    expect(shown("p\u0430yments (EU)")).toBe("p\u0430yments (EU)");
    expect(shown('{\n\t"Effect": "Allow"\n}')).toBe('{\n\t"Effect": "Allow"\n}');
  });

  it("cuts a string at the cap", () => {
    const cut = shown("x".repeat(MAX_SHOWN_CHARS + 10));
    expect(cut.length).toBe(MAX_SHOWN_CHARS);
    expect(cut.endsWith("…")).toBe(true);
  });

  it("reaches every string of an answer and leaves the rest", () => {
    const answer = {
      sessions: [{ name: "ops", failure: { message: "denied\u009b", code: "AccessDenied" }, expires: 12 }],
      ok: true,
      none: null,
    };
    expect(forWindow(answer)).toEqual({
      sessions: [{ name: "ops", failure: { message: "denied\\x9b", code: "AccessDenied" }, expires: 12 }],
      ok: true,
      none: null,
    });
  });
});

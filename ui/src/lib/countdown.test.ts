import { describe, expect, it } from "vitest";
import { formatRemaining, parseInstant } from "./countdown";

const at = Date.parse("2030-01-01T12:00:00Z");

describe("formatRemaining", () => {
  it("shows minutes and seconds under an hour", () => {
    expect(formatRemaining("2030-01-01T12:42:07Z", at)).toBe("42m 07s");
  });
  it("shows hours and minutes from an hour up", () => {
    expect(formatRemaining("2030-01-01T13:05:59Z", at)).toBe("1h 05m");
  });
  it("says expired at and after the expiry", () => {
    expect(formatRemaining("2030-01-01T12:00:00Z", at)).toBe("expired");
    expect(formatRemaining("2030-01-01T11:00:00Z", at)).toBe("expired");
  });
  it("reads chrono's nanosecond timestamps", () => {
    expect(formatRemaining("2030-01-01T12:42:07.123456789Z", at)).toBe("42m 07s");
    expect(parseInstant("2030-01-01T12:00:00.5Z")).toBe(at + 500);
  });
  it("shows nothing for an unreadable time", () => {
    expect(formatRemaining("soon", at)).toBe("");
  });
});

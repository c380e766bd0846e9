import { describe, expect, it } from "vitest";
import type { SessionState } from "../bindings/SessionState";
import { clickAction, clickLabel, clickTitle } from "./click";

const active: SessionState = { state: "active", expires_at: "2030-01-01T00:00:00Z" };
const pending: SessionState = { state: "pending" };
const inactive: SessionState = { state: "inactive" };
const failed: SessionState = { state: "failed", code: { type: "MfaCancelled" }, message: "the MFA prompt was cancelled" };

describe("a click on a session", () => {
  // The tray says "— stop" for a pending session and the engine's toggle stops it: the
  // window must offer the same, not a disabled "Start".
  it("stops a pending session, as the tray and the engine's toggle do", () => {
    expect(clickAction(pending)).toBe("stop");
    expect(clickLabel(pending)).toBe("Stop");
    expect(clickTitle(pending)).toBe("starting… — click to stop");
  });

  it("stops an active session and starts an inactive or failed one", () => {
    expect([active, inactive, failed].map(clickLabel)).toEqual(["Stop", "Start", "Start"]);
    expect(clickTitle(active)).toBe("active — click to stop");
    expect(clickTitle(inactive)).toBe("inactive — click to start");
    expect(clickTitle(failed)).toBe("failed: the MFA prompt was cancelled — click to retry");
  });
});

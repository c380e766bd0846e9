import { describe, expect, it } from "vitest";
import { browserOf, consoleSettings, consoleSummary, placeField, placeOf } from "./console";

describe("part 5: the console's browser, destination and region", () => {
  it("turns the dialog's fields into the settings the core stores", () => {
    expect(consoleSettings("chrome", " Profile 1 ", "/s3/buckets", "")).toEqual({
      browser: { kind: "chrome", profile: "Profile 1" },
      destination: "/s3/buckets",
      region: null,
    });
    expect(browserOf("firefox", "Prod")).toEqual({ kind: "firefox", container: "Prod" });
    expect(browserOf("default", "ignored")).toEqual({ kind: "default" });
  });

  it("names the field the core's errors name for a profile or a container", () => {
    expect(placeField("brave")).toBe("console_browser_profile");
    expect(placeField("firefox")).toBe("console_container");
    expect(placeField("default")).toBeNull();
    expect(placeOf({ kind: "edge", profile: "Work" })).toBe("Work");
  });

  it("says where, on what page and in which region the console opens", () => {
    expect(
      consoleSummary({ browser: { kind: "firefox", container: "Prod" }, destination: "s3", region: null }, "eu-west-1"),
    ).toBe("Firefox, container Prod · s3 · eu-west-1, the session's");
    expect(consoleSummary({ browser: { kind: "default" }, destination: null, region: "us-east-2" }, null)).toBe(
      "Default browser · home page · us-east-2",
    );
  });
});

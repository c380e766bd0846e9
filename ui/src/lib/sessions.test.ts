import { describe, expect, it } from "vitest";
import { SessionStore } from "./sessions.svelte";
import { role, user } from "../test/sessions";
import type { Settings } from "../bindings/Settings";

const settings: Settings = {
  delivery_mode: "credentials-file",
  rotation_margin_seconds: 300,
  default_region: null,
  mfa_sessions_in_kernel_keyring: true,
  close_without_tray: "ask",
  check_for_updates: true,
};
const alice = user("alice", "staging");
const build = role("CodeBuildRole", "build", alice, "arn:aws:iam::222222222222:role/CodeBuildRole");
const deploy = role("Deploy", "prod", build, "arn:aws:iam::333333333333:role/Deploy");

function loaded() {
  const store = new SessionStore();
  store.load({ sessions: [alice, build, deploy], profiles: [{ name: "staging" }], settings });
  return store;
}

describe("SessionStore", () => {
  it("applies a state event to its session only", () => {
    const store = loaded();
    store.apply({ event: "session-state", session: build.id, name: build.name, state: { state: "pending" } });
    expect(store.get(build.id)?.state).toEqual({ state: "pending" });
    expect(store.get(alice.id)?.state).toEqual({ state: "inactive" });
    expect(store.get(alice.id)).toBe(alice);
  });

  it("holds events that arrive before the first snapshot and applies them after it", () => {
    const store = new SessionStore();
    store.apply({
      event: "session-state",
      session: deploy.id,
      name: deploy.name,
      state: { state: "failed", code: { type: "Aws", code: "AccessDenied" }, message: "not allowed" },
    });
    expect(store.sessions).toEqual([]);
    store.load({ sessions: [alice, build, deploy], profiles: [], settings });
    expect(store.get(deploy.id)?.state).toEqual({
      state: "failed",
      code: { type: "Aws", code: "AccessDenied" },
      message: "not allowed",
    });
  });

  it("ignores a state event for a session it does not know yet", () => {
    const store = loaded();
    const before = store.sessions;
    store.apply({
      event: "session-state",
      session: "00000000-0000-4000-8000-999999999999",
      name: "new",
      state: { state: "pending" },
    });
    expect(store.sessions).toBe(before);
  });

  it("replaces everything with a later snapshot (a change made by the CLI)", () => {
    const store = loaded();
    const renamed = { ...alice, name: "alice2" };
    store.load({ sessions: [renamed], profiles: [{ name: "x" }], settings });
    expect(store.sessions.map((s) => s.name)).toEqual(["alice2"]);
    expect(store.get(build.id)).toBeUndefined();
    expect(store.profiles).toEqual([{ name: "x" }]);
  });

  it("walks a role's chain up to its IAM user", () => {
    const store = loaded();
    expect(store.ancestry(deploy.id)).toEqual([alice.id, build.id, deploy.id]);
    expect(store.ancestry(alice.id)).toEqual([alice.id]);
  });

  it("names every session chained below one, at any depth", () => {
    const store = loaded();
    expect(store.descendants(alice.id)).toEqual(["CodeBuildRole", "Deploy"]);
    expect(store.descendants(deploy.id)).toEqual([]);
  });

  it("offers as a parent every session but itself and those chained below it", () => {
    const store = loaded();
    // Deploy is chained from CodeBuildRole: offering it would make a cycle.
    expect(store.parentsFor(build.id).map((s) => s.name)).toEqual(["alice"]);
    expect(store.parentsFor(alice.id)).toEqual([]);
    expect(store.parentsFor(deploy.id).map((s) => s.name)).toEqual(["alice", "CodeBuildRole"]);
    expect(store.parentsFor(null)).toHaveLength(3);
  });
});

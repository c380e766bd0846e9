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

describe("part4 a session waiting for a sign-in", () => {
  const until = "2026-12-07T14:05:00.123456789Z";
  const waiting = { event: "sign-in-needed", session: build.id, name: build.name, expires_at: until, message: "m" } as const;
  function active(expiresAt: string) {
    const store = new SessionStore();
    const live = { ...build, state: { state: "active", expires_at: expiresAt } } as const;
    store.load({ sessions: [alice, live, deploy], profiles: [], settings });
    return store;
  }

  it("shows until when its credentials last, and nothing for the others", () => {
    const store = active(until);
    expect(store.signInUntil(build.id)).toBeNull();
    store.apply(waiting);
    expect(store.signInUntil(build.id)).toBe(until);
    expect(store.signInUntil(alice.id)).toBeNull();
  });

  it("is dropped once it is renewed (a new expiry), stopped or ended", () => {
    for (const state of [
      { state: "active", expires_at: "2026-12-07T14:20:00Z" },
      { state: "inactive" },
      { state: "failed", code: { type: "SamlSignInRequired" }, message: "ended" },
    ] as const) {
      const store = active(until);
      store.apply(waiting);
      store.apply({ event: "session-state", session: build.id, name: build.name, state });
      expect(store.signInUntil(build.id)).toBeNull();
    }
  });

  it("is kept while the session stays active on the same credentials", () => {
    const store = active(until);
    store.apply(waiting);
    store.apply({ event: "session-state", session: build.id, name: build.name, state: { state: "active", expires_at: until } });
    expect(store.signInUntil(build.id)).toBe(until);
  });
});

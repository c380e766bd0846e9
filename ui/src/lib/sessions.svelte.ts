// The sessions domain: every session, profile and the settings, as the engine last
// told. It changes only through the shell's events: a snapshot when the workspace
// changes, a state event when one session moves. Events that arrive before the first
// snapshot are held and applied after it, so nothing is lost or applied out of order.
// A federated session whose rotation needs the person ("sign-in-needed") is kept as
// waiting for the credentials it waits on, until its state moves on (renewed: a new
// expiry; stopped; failed at expiry).

import type { EngineEvent } from "../bindings/EngineEvent";
import type { Profile } from "../bindings/Profile";
import type { SessionState } from "../bindings/SessionState";
import type { SessionView } from "../bindings/SessionView";
import type { Settings } from "../bindings/Settings";
import type { Snapshot } from "../bindings/Snapshot";
import { parseInstant } from "./countdown";

export class SessionStore {
  sessions: SessionView[] = $state.raw([]);
  profiles: Profile[] = $state.raw([]);
  settings: Settings | null = $state.raw(null);
  /** Set once the first snapshot arrived. */
  loaded = $state(false);

  #index = new Map<string, number>();
  #early: EngineEvent[] = [];
  /** Sessions waiting for a sign-in: id → the expiry of the credentials they wait on. */
  #waits: Map<string, string> = $state.raw(new Map());

  /** Replaces everything with a snapshot, then applies events that came before it. */
  load(snapshot: Pick<Snapshot, "sessions" | "profiles" | "settings">): void {
    this.#setSessions(snapshot.sessions);
    this.profiles = snapshot.profiles;
    this.settings = snapshot.settings;
    if (!this.loaded) {
      this.loaded = true;
      const early = this.#early;
      this.#early = [];
      for (const event of early) this.apply(event);
    }
  }

  /** Applies one engine event. */
  apply(event: EngineEvent): void {
    if (!this.loaded) {
      this.#early.push(event);
      return;
    }
    if (event.event === "session-state") this.#setState(event.session, event.state);
    if (event.event === "sign-in-needed") this.#waits = new Map(this.#waits).set(event.session, event.expires_at);
  }

  /** Until when session `id`'s credentials last, while it waits for a sign-in on them;
   *  `null` when it does not (never asked, or renewed, stopped or ended since). */
  signInUntil(id: string): string | null {
    const until = this.#waits.get(id);
    const state = this.get(id)?.state;
    if (until === undefined || state?.state !== "active") return null;
    return parseInstant(state.expires_at) === parseInstant(until) ? until : null;
  }

  get(id: string): SessionView | undefined {
    const i = this.#index.get(id);
    return i === undefined ? undefined : this.sessions[i];
  }

  /** Ids from the root of `id`'s chain down to `id` itself. */
  ancestry(id: string): string[] {
    const ids: string[] = [];
    let next: string | null = id;
    while (next !== null && !ids.includes(next)) {
      const s = this.get(next);
      if (!s) break;
      ids.unshift(next);
      next = s.kind.type === "role" ? s.kind.parent : null;
    }
    return ids;
  }

  /** Names of the sessions chained (at any depth) from `id`. */
  descendants(id: string): string[] {
    return this.#descendantsOf(id).map((s) => s.name);
  }

  #descendantsOf(id: string): SessionView[] {
    const children = new Map<string, SessionView[]>();
    for (const s of this.sessions) {
      if (s.kind.type !== "role") continue;
      const list = children.get(s.kind.parent) ?? [];
      list.push(s);
      children.set(s.kind.parent, list);
    }
    const out: SessionView[] = [];
    const walk = (at: string) => {
      for (const c of children.get(at) ?? []) {
        out.push(c);
        walk(c.id);
      }
    };
    walk(id);
    return out;
  }

  /** The sessions a role may be chained from: any but itself and those chained below
   *  it (either would make a cycle, which the engine refuses). */
  parentsFor(id: string | null): SessionView[] {
    if (id === null) return this.sessions;
    const below = new Set(this.#descendantsOf(id).map((s) => s.id));
    return this.sessions.filter((s) => s.id !== id && !below.has(s.id));
  }

  #setSessions(sessions: SessionView[]): void {
    this.#index = new Map(sessions.map((s, i) => [s.id, i]));
    this.sessions = sessions;
  }

  #setState(id: string, state: SessionState): void {
    const i = this.#index.get(id);
    const current = i === undefined ? undefined : this.sessions[i];
    // A session this store does not know yet arrives with the next snapshot.
    if (i === undefined || current === undefined) return;
    const next = this.sessions.slice();
    next[i] = { ...current, state };
    this.sessions = next;
  }
}

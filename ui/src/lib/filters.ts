// The session list's filters: a search box, profiles (several), kind, region, state
// and IAM Identity Center integration, combined with AND. Pure functions over SessionView, so they are tested alone
// and cost one pass over the sessions per keystroke.
//
// The text and profile filters mean exactly what rolehop-core's `SessionFilter` means
// (the CLI's `session list --filter/--profile`): the trimmed text, ignoring case, inside
// the name, profile, role ARN, account id or account name, or an SSO role's role name or
// integration; profiles by exact name. They run here rather
// than over IPC so a keystroke never waits on a round trip.

import type { SessionView } from "../bindings/SessionView";
import type { SessionState } from "../bindings/SessionState";

export type KindFilter = "" | SessionView["kind"]["type"];
export type StateFilter = "" | SessionState["state"];

export interface Filters {
  /** Text that must appear in the name, profile, role ARN, account id or account name. */
  text: string;
  /** Profile names; empty means every profile. */
  profiles: string[];
  kind: KindFilter;
  /** An effective region; empty means every region. */
  region: string;
  state: StateFilter;
  /** The integration (by name) at the root of the chain; empty means any or none. */
  integration: string;
}

export const noFilters: Filters = { text: "", profiles: [], kind: "", region: "", state: "", integration: "" };

export function roleArn(session: SessionView): string | null {
  return session.kind.type === "role" || session.kind.type === "saml" ? session.kind.role_arn : null;
}

/** The fields the search box reads, in the order rolehop-core's `SessionFilter` reads them. */
export function searchFields(session: SessionView): string[] {
  const sso = session.kind.type === "sso-role" ? session.kind : null;
  // A console session's ARN is read where a role's is, as rolehop-core reads it.
  const login = session.kind.type === "login-session" ? session.kind.login_session : null;
  return [
    session.name,
    session.profile,
    roleArn(session) ?? login ?? "",
    session.account_id ?? "",
    session.account_name ?? "",
    sso?.role_name ?? "",
    session.integration ?? "",
  ];
}

// One lowercase haystack per session object, its fields joined by a newline that a
// trimmed one-line needle cannot contain, so a match never spans two fields. Views are
// replaced, never mutated, so a changed session gets a fresh key and an unchanged one
// is never recomputed.
const searchKeys = new WeakMap<SessionView, string>();

export function searchKey(session: SessionView): string {
  let key = searchKeys.get(session);
  if (key === undefined) {
    key = searchFields(session).join("\n").toLowerCase();
    searchKeys.set(session, key);
  }
  return key;
}

export function isFiltering(filters: Filters): boolean {
  return (
    filters.text.trim() !== "" ||
    filters.profiles.length > 0 ||
    filters.kind !== "" ||
    filters.region !== "" ||
    filters.state !== "" ||
    filters.integration !== ""
  );
}

/** The sessions that pass every filter, in their original order. */
export function filterSessions(sessions: readonly SessionView[], filters: Filters): SessionView[] {
  if (!isFiltering(filters)) return sessions.slice();
  // Read each filter once: in the UI `filters` is reactive state, and every read of it
  // is tracked, so none may happen per session.
  const { kind, region, state, integration } = filters;
  const needle = filters.text.trim().toLowerCase();
  const profiles = filters.profiles.length > 0 ? new Set(filters.profiles) : null;
  const out: SessionView[] = [];
  for (const s of sessions) {
    if (profiles !== null && !profiles.has(s.profile)) continue;
    if (kind !== "" && s.kind.type !== kind) continue;
    if (region !== "" && s.effective_region !== region) continue;
    if (state !== "" && s.state.state !== state) continue;
    if (integration !== "" && s.integration !== integration) continue;
    if (needle !== "" && !searchKey(s).includes(needle)) continue;
    out.push(s);
  }
  return out;
}

/** The distinct values `of` gives the sessions (leaving out none), sorted. */
function distinct(sessions: readonly SessionView[], of: (s: SessionView) => string | null): string[] {
  const values = new Set<string>();
  for (const s of sessions) {
    const value = of(s);
    if (value) values.add(value);
  }
  return [...values].sort();
}

/** The distinct effective regions, sorted, for the region filter. */
export function regionsOf(sessions: readonly SessionView[]): string[] {
  return distinct(sessions, (s) => s.effective_region);
}

/** The distinct integrations at the sessions' roots, sorted, for the integration filter. */
export function integrationsOf(sessions: readonly SessionView[]): string[] {
  return distinct(sessions, (s) => s.integration);
}

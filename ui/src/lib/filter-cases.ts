// The shared filter cases (tests/fixtures/filter-cases.json) as session views, for the
// Vitest side of them; rolehop-core's SessionFilter tests read the same file.

import type { SessionView } from "../bindings/SessionView";
import type { SessionState } from "../bindings/SessionState";
import type { Filters } from "./filters";
import { noFilters } from "./filters";
import shared from "../../../tests/fixtures/filter-cases.json";

/** A session as the cases write it: only what a filter looks at. */
export interface CaseSession {
  name: string;
  profile: string;
  kind: "iam-user" | "role" | "sso-role";
  role_arn?: string;
  account_id: string | null;
  /** Sessions a sync made, and SSO roles, carry their account's name. */
  account_name?: string;
  role_name?: string;
  integration?: string;
  region: string | null;
  /** No case needs a failed session (whose failure code is a union of its own). */
  state: "inactive" | "pending" | "active";
}

export interface FilterCase {
  case: string;
  only?: "ui";
  filter: Partial<Filters>;
  expected: string[];
}

function view(s: CaseSession, i: number): SessionView {
  const id = `00000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`;
  const state: SessionState =
    s.state === "active" ? { state: "active", expires_at: "2030-01-01T00:00:00Z" } : { state: s.state };
  return {
    id,
    name: s.name,
    profile: s.profile,
    region: s.region,
    kind: kindOf(s, id),
    state,
    account_id: s.account_id,
    account_name: s.account_name ?? null,
    effective_region: s.region,
    chain: [s.name],
    integration: s.integration ?? null,
    console: { browser: { kind: "default" }, destination: null, region: null },
  };
}

function kindOf(s: CaseSession, id: string): SessionView["kind"] {
  switch (s.kind) {
    case "role":
      return {
        type: "role",
        parent: id,
        role_arn: s.role_arn ?? "",
        role_session_name: null,
        external_id: null,
        duration: null,
        source_identity: null,
        tags: [],
        transitive_tag_keys: [],
      };
    case "sso-role":
      return {
        type: "sso-role",
        integration: "00000000-0000-4000-8000-000000000000",
        account_id: s.account_id ?? "",
        account_name: s.account_name ?? null,
        role_name: s.role_name ?? "",
      };
    case "iam-user":
      return { type: "iam-user", mfa_serial: null, session_duration: 43200, account_id: s.account_id };
  }
}

export const caseSessions: SessionView[] = (shared.sessions as CaseSession[]).map(view);
export const filterCases: FilterCase[] = shared.cases as FilterCase[];

/** A case's filter with every field it leaves out at its "no filter" value. */
export const filtersOf = (c: FilterCase): Filters => ({ ...noFilters, ...c.filter });

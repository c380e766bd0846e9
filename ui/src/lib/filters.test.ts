import { describe, expect, it } from "vitest";
import {
  filterSessions,
  integrationsOf,
  noFilters,
  regionsOf,
  searchFields,
  searchKey,
  type Filters,
} from "./filters";
import { caseSessions, filterCases, filtersOf } from "./filter-cases";
import { many } from "../test/sessions";
import type { SessionView } from "../bindings/SessionView";

describe("filterSessions, on the cases shared with rolehop-core's SessionFilter", () => {
  it.each(filterCases.map((c) => [c.case, c] as const))("%s", (_, c) => {
    expect(filterSessions(caseSessions, filtersOf(c)).map((s) => s.name)).toEqual(c.expected);
  });
});

/** The filters' definition, written plainly: no cached keys, no early exits. */
function reference(sessions: readonly SessionView[], f: Filters): string[] {
  const needle = f.text.trim().toLowerCase();
  return sessions
    .filter(
      (s) =>
        (f.profiles.length === 0 || f.profiles.includes(s.profile)) &&
        (f.kind === "" || s.kind.type === f.kind) &&
        (f.region === "" || s.effective_region === f.region) &&
        (f.state === "" || s.state.state === f.state) &&
        (f.integration === "" || s.integration === f.integration) &&
        searchFields(s).some((field) =>
          field.toLowerCase().includes(needle),
        ),
    )
    .map((s) => s.name);
}

describe("filterSessions over 5,000 sessions", () => {
  const sessions = many(5000);
  const typed = ["r", "ro", "rol", "role", "role-4", "role-49", "deploy4", "DEPLOY49", ""];

  it("returns what the plain definition returns for each keystroke", () => {
    for (const text of typed) {
      for (const profiles of [[], ["team-1", "team-9"]]) {
        const filters = { ...noFilters, text, profiles };
        expect(filterSessions(sessions, filters).map((s) => s.name), `${text} in ${profiles}`).toEqual(
          reference(sessions, filters),
        );
      }
    }
  });

  it("finds exactly the sessions a search names", () => {
    // role-49, role-4900..4999: those on team-1 or team-9 (index % 40 is 1 or 9).
    const found = filterSessions(sessions, { ...noFilters, text: "role-49", profiles: ["team-1", "team-9"] });
    expect(found.map((s) => s.name)).toEqual(["role-49", "role-4921", "role-4929", "role-4961", "role-4969"]);
  });
});

describe("searchKey", () => {
  it("is recomputed for a replaced session", () => {
    const [alice] = caseSessions;
    if (!alice) throw new Error("no sessions in the shared cases");
    const renamed = { ...alice, name: "bob" };
    expect(searchKey(alice)).toContain("alice");
    expect(searchKey(renamed)).toContain("bob");
    expect(searchKey(renamed)).not.toContain("alice");
  });
});

describe("regionsOf", () => {
  it("lists each effective region once, sorted, leaving out sessions with none", () => {
    expect(regionsOf(caseSessions)).toEqual(["eu-central-1", "eu-west-1", "us-east-1"]);
  });
});

describe("the integration filter", () => {
  const sso = (name: string, integration: string | null): SessionView => {
    const [first] = caseSessions;
    if (!first) throw new Error("no sessions in the shared cases");
    return { ...first, name, integration };
  };
  const sessions = [sso("a-admin", "acme"), sso("b-admin", "beta"), sso("plain", null), sso("a-read", "acme")];

  it("keeps only the sessions rooted in the chosen integration", () => {
    const found = filterSessions(sessions, { ...noFilters, integration: "acme" });
    expect(found.map((s) => s.name)).toEqual(["a-admin", "a-read"]);
    expect(reference(sessions, { ...noFilters, integration: "acme" })).toEqual(["a-admin", "a-read"]);
  });

  it("lists each integration once, sorted, leaving out sessions with none", () => {
    expect(integrationsOf(sessions)).toEqual(["acme", "beta"]);
  });
});

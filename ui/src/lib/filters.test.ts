import { describe, expect, it } from "vitest";
import { filterSessions, noFilters, regionsOf, searchKey, type Filters } from "./filters";
import { many, role, user, withState } from "../test/sessions";

const alice = user("alice", "staging", { account_id: "222222222222" });
const build = role("CodeBuildRole", "staging-build", alice, "arn:aws:iam::222222222222:role/CodeBuildRole");
const deploy = withState(
  role("ResourceDeployCAR", "prod-deploy", build, "arn:aws:iam::333333333333:role/ResourceDeployCAR", {
    region: "us-east-1",
    effective_region: "us-east-1",
  }),
  { state: "active", expires_at: "2030-01-01T00:00:00Z" },
);
const all = [alice, build, deploy];
const names = (f: Partial<Filters>) => filterSessions(all, { ...noFilters, ...f }).map((s) => s.name);

describe("filterSessions", () => {
  it("returns every session when no filter is set", () => {
    expect(names({})).toEqual(["alice", "CodeBuildRole", "ResourceDeployCAR"]);
  });

  it("searches name, profile, role ARN and account, ignoring case", () => {
    expect(names({ text: "codebuild" })).toEqual(["CodeBuildRole"]);
    expect(names({ text: "PROD-DEPLOY" })).toEqual(["ResourceDeployCAR"]);
    expect(names({ text: "role/ResourceDeploy" })).toEqual(["ResourceDeployCAR"]);
    expect(names({ text: "333333333333" })).toEqual(["ResourceDeployCAR"]);
  });

  it("searches the trimmed text as one phrase, like the CLI's --filter", () => {
    expect(names({ text: "  alice " })).toEqual(["alice"]);
    expect(names({ text: "staging role" })).toEqual([]);
  });

  it("never matches across two fields", () => {
    // name "alice" then profile "staging": "alicestaging" is in neither.
    expect(names({ text: "alicestaging" })).toEqual([]);
  });

  it("keeps only the chosen profiles, one or several", () => {
    expect(names({ profiles: ["prod-deploy"] })).toEqual(["ResourceDeployCAR"]);
    expect(names({ profiles: ["staging", "prod-deploy"] })).toEqual(["alice", "ResourceDeployCAR"]);
  });

  it("matches a profile by its whole name, not a prefix", () => {
    expect(names({ profiles: ["staging"] })).toEqual(["alice"]);
  });

  it("filters by kind, region and state", () => {
    expect(names({ kind: "iam-user" })).toEqual(["alice"]);
    expect(names({ kind: "role" })).toEqual(["CodeBuildRole", "ResourceDeployCAR"]);
    expect(names({ region: "us-east-1" })).toEqual(["ResourceDeployCAR"]);
    expect(names({ state: "active" })).toEqual(["ResourceDeployCAR"]);
    expect(names({ state: "failed" })).toEqual([]);
  });

  it("combines filters with AND", () => {
    expect(names({ kind: "role", profiles: ["staging-build", "prod-deploy"], text: "deploy" })).toEqual([
      "ResourceDeployCAR",
    ]);
    expect(names({ kind: "iam-user", state: "active" })).toEqual([]);
  });

  it("recomputes the search key of a replaced session", () => {
    const renamed = { ...alice, name: "bob" };
    expect(searchKey(alice)).toContain("alice");
    expect(searchKey(renamed)).toContain("bob");
  });

  it("filters 5,000 sessions in well under a frame per keystroke", () => {
    const sessions = many(5000);
    filterSessions(sessions, { ...noFilters, text: "w" }); // warm the search keys
    const times: number[] = [];
    for (const text of ["r", "ro", "rol", "role", "role-4", "role-49", "deploy4"]) {
      const start = performance.now();
      filterSessions(sessions, { ...noFilters, text, profiles: ["team-1", "team-9"] });
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    expect(times[Math.floor(times.length / 2)]).toBeLessThan(8);
  });
});

describe("regionsOf", () => {
  it("lists each effective region once, sorted", () => {
    expect(regionsOf(all)).toEqual(["eu-west-1", "us-east-1"]);
  });
});

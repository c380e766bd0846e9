import { describe, expect, it } from "vitest";
import type { CatalogSyncReport } from "../bindings/CatalogSyncReport";
import type { SyncedSession } from "../bindings/SyncedSession";
import { role, user } from "../test/sessions";
import { afterSync, announced, bindable, changesSessions, forgotten, fromNews, previewLines, short, summary, where } from "./catalogs";

const synced = (name: string, role_name: string, account_id = "111111111111"): SyncedSession => ({
  name,
  account_id,
  account_name: "platform",
  role_name,
});

function report(extra: Partial<CatalogSyncReport["sync"]> = {}, commit: string | null = "a".repeat(40)): CatalogSyncReport {
  const sync = {
    counts: { added: 0, updated: 0, removed: 0, kept: 0 },
    added: [],
    updated: [],
    removed: [],
    kept: [],
    kept_live: [],
    kept_parent: [],
    ...extra,
  };
  sync.counts = {
    added: sync.added.length,
    updated: sync.updated.length,
    removed: sync.removed.length,
    kept: sync.kept.length + sync.kept_live.length + sync.kept_parent.length,
  };
  return { catalog: "platform", commit, sync, unbound: [], skipped: [] };
}

describe("part4 preview", () => {
  it("part4_says_every_category_of_the_plan", () => {
    const r = report({
      added: [synced("staging-codebuild", "codebuild"), synced("prod-deploy", "deploy", "222222222222")],
      updated: [synced("prod-audit", "audit")],
      removed: [synced("old", "old")],
      kept: [synced("same", "same")],
      kept_live: [synced("live", "live")],
      kept_parent: [{ session: synced("base", "base"), children: ["mine"] }],
    });
    r.skipped = [{ role: "sso-admin", why: "{corp} needs an IAM Identity Center integration with start URL https://corp.awsapps.com/start: add it with `rolehop sso add`, then sync again" }];
    r.unbound = ["you"];
    const lines = previewLines(r);
    expect(lines.map((l) => l.what)).toEqual([
      "added",
      "added",
      "updated",
      "removed",
      "kept-live",
      "kept-parent",
      "skipped",
      "unbound",
    ]);
    expect(lines[1]?.text).toBe("Add prod-deploy (deploy, 222222222222)");
    expect(lines[5]?.text).toContain("mine chain from it");
    expect(lines[7]?.text).toContain("{you}");
    // The unchanged session is counted, not listed; kept-because-active and parents are not "unchanged".
    expect(summary(r, false)).toBe("2 to add, 1 to change, 1 to remove, 1 unchanged");
    expect(summary(r, true)).toBe("Added 2, changed 1, removed 1, 1 unchanged");
    expect(changesSessions(r)).toBe(true);
  });

  it("part4_a_preview_with_nothing_to_do_changes_no_session", () => {
    const r = report({ kept: [synced("same", "same")], kept_live: [synced("live", "live")] });
    expect(changesSessions(r)).toBe(false);
    expect(previewLines(r).map((l) => l.what)).toEqual(["kept-live"]);
  });
});

describe("part4 binding", () => {
  it("part4_placeholders_bind_to_the_users_iam_users_only", () => {
    const bob = user("bob", "b");
    const alice = user("alice", "a");
    const chained = role("deploy", "d", alice, "arn:aws:iam::222222222222:role/ResourceDeployCAR");
    expect(bindable([bob, chained, alice]).map((s) => s.name)).toEqual(["alice", "bob"]);
  });
});

describe("part4 moved on", () => {
  const v1 = "1".repeat(40);
  const v2 = "2".repeat(40);
  const news = (catalog: string, synced: string | null, latest: string | null, unreachable: string | null = null) => ({
    catalog,
    synced,
    latest,
    moved_on: latest !== null && latest !== synced,
    unreachable,
  });

  it("part4_the_check_on_opening_lists_exactly_the_catalogs_that_moved_on", () => {
    const m = fromNews([news("platform", v1, v2), news("same", v1, v1), news("far", v1, null, "unreachable")]);
    expect(m).toEqual({ platform: v2 });
  });

  it("part4_a_sync_that_read_the_announced_version_clears_the_notice_and_an_older_one_keeps_it", () => {
    let m = announced({}, "platform", v2);
    expect(afterSync(m, report({}, v1))).toEqual({ platform: v2 });
    m = afterSync(m, report({}, v2));
    expect(m).toEqual({});
    // A file catalog's version is its content hash, announced and synced alike.
    m = announced(m, "platform", `sha256:${"f".repeat(64)}`);
    expect(afterSync(m, report({}, `sha256:${"f".repeat(64)}`))).toEqual({});
    expect(forgotten(announced({}, "x", v1), "x")).toEqual({});
  });

  it("part4_versions_are_shortened_as_git_shows_them", () => {
    expect(short(v2)).toBe("222222222222");
    expect(short(`sha256:${"ab".repeat(32)}`)).toBe("abababababab");
    expect(short(null)).toBe("never synced");
  });
});

describe("where", () => {
  it("part4_each_kind_of_source_reads_with_its_kind_an_https_file_included", () => {
    expect(where({ type: "git", at: "git://127.0.0.1/team.git" })).toBe("git git://127.0.0.1/team.git");
    expect(where({ type: "file", at: "/home/alice/team.toml" })).toBe("file /home/alice/team.toml");
    expect(where({ type: "https", at: "https://example.com/team.toml" })).toBe("https https://example.com/team.toml");
  });
});

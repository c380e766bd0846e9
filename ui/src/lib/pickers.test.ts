import { describe, expect, it } from "vitest";
import { regions } from "../bindings/regions";
import { isListedRegion, parentChoices, profileChoices, regionChoices, sortedNames } from "./pickers";

describe("part 1: the profile picker", () => {
  it("lists the existing profiles sorted, then a new profile", () => {
    const choices = profileChoices(["prod", "Dev", "admin", "prod-2", "prod-10"], "");
    expect(choices.map((c) => c.label)).toEqual(["admin", "Dev", "prod", "prod-2", "prod-10", "New profile…"]);
    expect(choices.at(-1)).toMatchObject({ value: "", isNew: true });
  });

  it("filters by what is typed and offers the typed name as a new profile", () => {
    const choices = profileChoices(["prod", "staging", "prod-eu"], "pro");
    expect(choices.map((c) => c.value)).toEqual(["prod", "prod-eu", "pro"]);
    expect(choices.at(-1)).toMatchObject({ label: "New profile “pro”", isNew: true });
  });

  it("offers no new profile when the typed name exists", () => {
    expect(profileChoices(["prod", "prod-eu"], "prod").map((c) => c.value)).toEqual(["prod", "prod-eu"]);
  });

  it("sorts names case-insensitively with numbers in order", () => {
    expect(sortedNames(["b", "A", "a10", "a9"])).toEqual(["A", "a9", "a10", "b"]);
  });
});

describe("part 1: the region picker", () => {
  it("lists every region of the generated table, grouped by partition with the commercial one first", () => {
    const all = regionChoices("");
    expect(all).toHaveLength(regions.length);
    expect(all[0]?.group).toBe("AWS");
    const groups = [...new Set(all.map((c) => c.group))];
    expect(groups.slice(0, 3)).toEqual(["AWS", "AWS China", "AWS GovCloud (US)"]);
    // Each partition's regions are listed together.
    expect(groups).toHaveLength(new Set(regions.map((r) => r.partition)).size);
    expect(all.some((c) => c.value.endsWith("-global"))).toBe(false);
  });

  it("searches by code and by AWS's name for the region", () => {
    expect(regionChoices("paris").map((c) => c.value)).toEqual(["eu-west-3"]);
    expect(regionChoices("EU-WEST").map((c) => c.value)).toEqual(["eu-west-1", "eu-west-2", "eu-west-3"]);
    expect(regionChoices("gov").every((c) => c.group === "AWS GovCloud (US)")).toBe(true);
    expect(regionChoices("mars-1")).toEqual([]);
  });

  it("reads the regions from the generated table, not a hand list", () => {
    const table = [{ code: "xx-test-1", partition: "aws-new", description: "Test" }];
    expect(regionChoices("", table)).toEqual([{ value: "xx-test-1", label: "xx-test-1 — Test", group: "aws-new" }]);
    expect(isListedRegion("us-east-1")).toBe(true);
    expect(isListedRegion("mars-1")).toBe(false);
  });
});

describe("part 1: the parent picker", () => {
  it("searches the parents by their chain", () => {
    const parents = [
      { id: "1", chain: ["deployer"] },
      { id: "2", chain: ["deployer", "CodeBuildRole"] },
      { id: "3", chain: ["alice"] },
    ];
    expect(parentChoices(parents, "codebuild")).toEqual([
      { value: "2", label: "deployer → CodeBuildRole", group: null },
    ]);
    expect(parentChoices(parents, "").map((c) => c.value)).toEqual(["1", "2", "3"]);
  });
});

// What the dialogs' pickers offer for a query: the existing profiles (sorted) and a new
// one, AWS's regions by partition (from bindings/regions.ts, generated from the SDK's
// partition data, the list the engine checks IAM Identity Center regions against), and
// the parent sessions. Pure functions of their inputs, so they are tested alone; the
// Combobox component shows them.

import { regions, type RegionInfo } from "../bindings/regions";

/** One line of a picker: what choosing it puts in the field, and what it reads. */
export interface Choice {
  value: string;
  label: string;
  /** The heading it is listed under (a partition), or null. */
  group: string | null;
  /** The "new profile…" line: choosing it keeps what was typed as a new name. */
  isNew?: boolean;
}

const matches = (query: string, ...texts: string[]) => {
  const q = query.trim().toLowerCase();
  return q === "" || texts.some((t) => t.toLowerCase().includes(q));
};

/** Names sorted as a person reads a list (case-insensitive, numbers in order). */
export function sortedNames(names: readonly string[]): string[] {
  return [...names].sort((a, b) => a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" }));
}

/**
 * The existing profiles that match `query`, sorted, then "New profile…": named after
 * the query when it is not an existing profile, so a new name is one Enter away.
 */
export function profileChoices(profiles: readonly string[], query: string): Choice[] {
  const typed = query.trim();
  const existing = sortedNames(profiles)
    .filter((p) => matches(typed, p))
    .map((p) => ({ value: p, label: p, group: null }));
  if (profiles.includes(typed)) return existing;
  const label = typed === "" ? "New profile…" : `New profile “${typed}”`;
  return [...existing, { value: typed, label, group: null, isNew: true }];
}

/** The partitions' headings, in the order they are listed. */
const partitionNames: Record<string, string> = {
  aws: "AWS",
  "aws-cn": "AWS China",
  "aws-us-gov": "AWS GovCloud (US)",
  "aws-eusc": "AWS European Sovereign Cloud",
  "aws-iso": "AWS ISO",
  "aws-iso-b": "AWS ISO-B",
  "aws-iso-e": "AWS ISO-E",
  "aws-iso-f": "AWS ISO-F",
};
const partitionOrder = Object.keys(partitionNames);

/** The regions matching `query` (by code or name: "paris", "eu-west"), grouped by partition. */
export function regionChoices(query: string, all: readonly RegionInfo[] = regions): Choice[] {
  const rank = (p: string) => {
    const i = partitionOrder.indexOf(p);
    return i < 0 ? partitionOrder.length : i;
  };
  return all
    .filter((r) => matches(query, r.code, r.description))
    .sort((a, b) => rank(a.partition) - rank(b.partition) || a.code.localeCompare(b.code))
    .map((r) => ({
      value: r.code,
      label: `${r.code} — ${r.description}`,
      group: partitionNames[r.partition] ?? r.partition,
    }));
}

/** Whether `code` is a region AWS lists (a typed one that is not may still be refused by the engine). */
export function isListedRegion(code: string, all: readonly RegionInfo[] = regions): boolean {
  return all.some((r) => r.code === code);
}

/** The parent sessions whose chain (`deployer → CodeBuildRole`) matches `query`, by id. */
export function parentChoices(parents: readonly { id: string; chain: string[] }[], query: string): Choice[] {
  return parents
    .map((p) => ({ value: p.id, label: p.chain.join(" → "), group: null }))
    .filter((c) => matches(query, c.label));
}

// Session views for the unit tests, shaped exactly as the shell sends them.

import type { SessionState } from "../bindings/SessionState";
import type { SessionView } from "../bindings/SessionView";

let next = 0;

export function user(name: string, profile: string, extra: Partial<SessionView> = {}): SessionView {
  next += 1;
  return {
    id: `00000000-0000-4000-8000-${String(next).padStart(12, "0")}`,
    name,
    profile,
    region: "eu-west-1",
    kind: { type: "iam-user", mfa_serial: "arn:aws:iam::111111111111:mfa/dev", session_duration: 43200, account_id: "111111111111" },
    state: { state: "inactive" },
    account_id: "111111111111",
    account_name: null,
    effective_region: "eu-west-1",
    chain: [name],
    integration: null,
    console: { browser: { kind: "default" }, destination: null, region: null },
    ...extra,
  };
}

export function role(name: string, profile: string, parent: SessionView, arn: string, extra: Partial<SessionView> = {}): SessionView {
  const base = user(name, profile);
  return {
    ...base,
    kind: {
      type: "role",
      parent: parent.id,
      role_arn: arn,
      role_session_name: null,
      external_id: null,
      duration: null,
      source_identity: null,
      tags: [],
      transitive_tag_keys: [],
    },
    account_id: arn.split(":")[4] ?? null,
    chain: [...parent.chain, name],
    ...extra,
  };
}

export function withState(s: SessionView, state: SessionState): SessionView {
  return { ...s, state };
}

/** `count` sessions over 40 profiles, 4 regions, users and roles, like a large team's. */
export function many(count: number): SessionView[] {
  const regions = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"];
  const out: SessionView[] = [];
  for (let i = 0; i < count; i++) {
    const profile = `team-${i % 40}`;
    const region = regions[i % regions.length] ?? "us-east-1";
    const parent = out[i - (i % 10)];
    const s =
      i % 10 === 0 || parent === undefined
        ? user(`user-${i}`, profile, { region, effective_region: region })
        : role(`role-${i}`, profile, parent, `arn:aws:iam::${String(100000000000 + i)}:role/Deploy${i}`, {
            region,
            effective_region: region,
          });
    out.push(s);
  }
  return out;
}

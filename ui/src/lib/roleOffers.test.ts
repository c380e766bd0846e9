import { describe, expect, it } from "vitest";
import { filterOffers, initiallyPicked, offerLabel, pickedArns } from "./roleOffers";
import { manyOffers } from "../test/offers";
import type { RoleOffer } from "../bindings/RoleOffer";

const offer = (account: string, name: string | null, role: string, session: string | null = null): RoleOffer => ({
  role_arn: `arn:aws:iam::${account}:role/${role}`,
  principal_arn: `arn:aws:iam::${account}:saml-provider/corp`,
  account_id: account,
  account_name: name,
  role_name: role,
  session,
});

const offers = [
  offer("111111111111", "sandbox", "Dev", "sandbox-Dev"),
  offer("222222222222", null, "Admin"),
  offer("333333333333", "Prod", "ops/ReadOnly"),
];

describe("part3 role picker filter (rolehop-core's RoleOffer::matches)", () => {
  it.each([
    ["", ["Dev", "Admin", "ops/ReadOnly"]],
    ["  ", ["Dev", "Admin", "ops/ReadOnly"]],
    ["2222", ["Admin"]],
    ["SANDBOX", ["Dev"]],
    ["prod", ["ops/ReadOnly"]],
    ["readonly", ["ops/ReadOnly"]],
    [" role/Adm ", ["Admin"]],
    ["saml-provider", []],
    ["nothing", []],
  ])("%j shows %j", (typed, expected) => {
    expect(filterOffers(offers, typed).map((o) => o.role_name)).toEqual(expected);
  });

  it("part3 matches the filter's definition over 50 offers for every prefix typed", () => {
    const many = manyOffers(50);
    for (const typed of ["t", "te", "team-4", "Dep", "1000000000", "path/", "ARN:AWS"]) {
      const needle = typed.toLowerCase();
      const expected = many.filter(
        (o) =>
          o.account_id.includes(needle) ||
          (o.account_name ?? "").toLowerCase().includes(needle) ||
          o.role_name.toLowerCase().includes(needle) ||
          o.role_arn.toLowerCase().includes(needle),
      );
      expect(filterOffers(many, typed)).toEqual(expected);
    }
  });
});

describe("part3 role picker picks", () => {
  it("starts with the roles already synced ticked", () => {
    expect([...initiallyPicked(offers)]).toEqual(["arn:aws:iam::111111111111:role/Dev"]);
  });

  it("sends the ticked roles still offered, in the offers' order, even if filtered away", () => {
    const ticked = new Set([
      "arn:aws:iam::333333333333:role/ops/ReadOnly",
      "arn:aws:iam::999999999999:role/Gone",
      "arn:aws:iam::222222222222:role/Admin",
    ]);
    expect(pickedArns(offers, ticked)).toEqual([
      "arn:aws:iam::222222222222:role/Admin",
      "arn:aws:iam::333333333333:role/ops/ReadOnly",
    ]);
  });

  it("labels an offer with its account's name only when known", () => {
    expect(offers.map(offerLabel)).toEqual([
      "Dev · 111111111111 (sandbox)",
      "Admin · 222222222222",
      "ops/ReadOnly · 333333333333 (Prod)",
    ]);
  });
});

// Offered roles for the role picker's tests and bench (lib/roleOffers.ts).

import type { RoleOffer } from "../bindings/RoleOffer";

/** `n` offers for tests and benches: accounts 1..n/5, five roles each, every other account named. */
export function manyOffers(n: number): RoleOffer[] {
  const roles = ["Admin", "Dev", "ReadOnly", "Deploy", "path/Audit"];
  return Array.from({ length: n }, (_, i) => {
    const account = String(100000000000 + Math.floor(i / roles.length));
    const role = roles[i % roles.length] ?? "Dev";
    return {
      role_arn: `arn:aws:iam::${account}:role/${role}`,
      principal_arn: `arn:aws:iam::${account}:saml-provider/corp`,
      account_id: account,
      account_name: Math.floor(i / roles.length) % 2 === 0 ? `team-${Math.floor(i / roles.length)}` : null,
      role_name: role,
      session: null,
    };
  });
}

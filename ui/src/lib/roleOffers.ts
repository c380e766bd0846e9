// The federated role picker's logic (components/SamlDialog.svelte): which offered roles
// a typed text shows, and which ARNs "Add selected" sends. The filter is rolehop-core's
// `RoleOffer::matches` (the CLI's picker): the account id, account name, role name or
// role ARN holds the text, ignoring case and surrounding spaces.

import type { RoleOffer } from "../bindings/RoleOffer";

/** The offers a typed text shows, in their order. */
export function filterOffers(offers: readonly RoleOffer[], typed: string): RoleOffer[] {
  const needle = typed.trim().toLowerCase();
  if (needle === "") return [...offers];
  return offers.filter((o) =>
    [o.account_id, o.account_name ?? "", o.role_name, o.role_arn].some((field) =>
      field.toLowerCase().includes(needle),
    ),
  );
}

/** The roles the picker starts with ticked: those already synced as sessions. */
export function initiallyPicked(offers: readonly RoleOffer[]): Set<string> {
  return new Set(offers.filter((o) => o.session !== null).map((o) => o.role_arn));
}

/** The ARNs "Add selected" sends: the ticked ones still offered, in the offers' order
 *  (a tick hidden by the filter still counts). */
export function pickedArns(offers: readonly RoleOffer[], ticked: ReadonlySet<string>): string[] {
  return offers.filter((o) => ticked.has(o.role_arn)).map((o) => o.role_arn);
}

/** How an offer reads in the picker: "Dev · 111111111111 (sandbox)". */
export function offerLabel(o: RoleOffer): string {
  const account = o.account_name === null ? o.account_id : `${o.account_id} (${o.account_name})`;
  return `${o.role_name} · ${account}`;
}

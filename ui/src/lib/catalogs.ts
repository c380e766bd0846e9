// The Catalogs pane's logic: what a preview says (the plan the sync would apply, in the
// engine's own categories), which sessions a placeholder may be bound to, and which
// catalogs moved on (from the engine's check on opening the pane and its
// `catalog-moved-on` events; a sync that read the announced version clears it).

import type { CatalogNews } from "../bindings/CatalogNews";
import type { CatalogSyncReport } from "../bindings/CatalogSyncReport";
import type { Location } from "../bindings/Location";
import type { SessionView } from "../bindings/SessionView";

/** One line of a preview, by what the sync would do. */
export interface PreviewLine {
  what: "added" | "updated" | "removed" | "kept-live" | "kept-parent" | "skipped" | "unbound";
  text: string;
}

/** A preview (or a sync's report) line by line: every session the sync would add,
 *  change or remove, what it would keep because it is active or a parent, the roles
 *  it would skip and the placeholders still unbound. Unchanged sessions are counted
 *  only (`summary`). */
export function previewLines(r: CatalogSyncReport): PreviewLine[] {
  const s = r.sync;
  return [
    ...s.added.map((x): PreviewLine => ({ what: "added", text: `Add ${x.name} (${x.role_name}, ${x.account_id})` })),
    ...s.updated.map((x): PreviewLine => ({ what: "updated", text: `Change ${x.name} (${x.role_name})` })),
    ...s.removed.map((x): PreviewLine => ({ what: "removed", text: `Remove ${x.name} (${x.role_name})` })),
    ...s.kept_live.map(
      (x): PreviewLine => ({ what: "kept-live", text: `Keep ${x.name}: its role left the catalog, but it is active` }),
    ),
    ...s.kept_parent.map(
      (x): PreviewLine => ({
        what: "kept-parent",
        text: `Keep ${x.session.name}: its role left the catalog, but ${x.children.join(", ")} chain from it`,
      }),
    ),
    ...r.skipped.map((x): PreviewLine => ({ what: "skipped", text: `Skip ${x.role}: ${x.why}` })),
    ...r.unbound.map(
      (p): PreviewLine => ({ what: "unbound", text: `{${p}} is not bound: bind it to one of your sessions` }),
    ),
  ];
}

/** "2 to add, 1 to change, 0 to remove, 3 unchanged" (a preview) or the done form. */
export function summary(r: CatalogSyncReport, done: boolean): string {
  const c = r.sync.counts;
  const unchanged = c.kept - r.sync.kept_live.length - r.sync.kept_parent.length;
  return done
    ? `Added ${c.added}, changed ${c.updated}, removed ${c.removed}, ${unchanged} unchanged`
    : `${c.added} to add, ${c.updated} to change, ${c.removed} to remove, ${unchanged} unchanged`;
}

/** Whether applying the previewed change would change any session. */
export const changesSessions = (r: CatalogSyncReport) => r.sync.counts.added + r.sync.counts.updated + r.sync.counts.removed > 0;

/** The sessions a placeholder (an `iam-user` source of the catalog) may be bound to:
 *  the user's IAM users, by name. */
export function bindable(sessions: SessionView[]): SessionView[] {
  return sessions.filter((s) => s.kind.type === "iam-user").sort((a, b) => a.name.localeCompare(b.name));
}

/** Where a catalog is read from, in words. */
/** How a catalog's source reads in its row: its kind, then where it is. */
export const where = (l: Location) => `${l.type} ${l.at}`;

/** A commit (or a file's `sha256:` hash) shortened as git shows it. */
export function short(version: string | null): string {
  if (version === null) return "never synced";
  const hash = version.startsWith("sha256:") ? version.slice(7) : version;
  return hash.slice(0, 12);
}

/** Catalog name → the version its source holds that no sync has read yet. */
export type MovedOn = Record<string, string>;

/** The pane's answer on opening: exactly the catalogs the check found moved on. */
export function fromNews(news: CatalogNews[]): MovedOn {
  const out: MovedOn = {};
  for (const n of news) if (n.moved_on && n.latest !== null) out[n.catalog] = n.latest;
  return out;
}

/** A `catalog-moved-on` event. */
export const announced = (m: MovedOn, catalog: string, latest: string): MovedOn => ({ ...m, [catalog]: latest });

/** After a sync (or an add) of `r.catalog`: it read the announced version, so the
 *  notice goes; a sync that read an older one (the source moved on again) keeps it. */
export function afterSync(m: MovedOn, r: CatalogSyncReport): MovedOn {
  if (!(r.catalog in m) || (r.commit !== null && m[r.catalog] !== r.commit)) return m;
  return forgotten(m, r.catalog);
}

/** A removed catalog has no notice. */
export function forgotten(m: MovedOn, catalog: string): MovedOn {
  return Object.fromEntries(Object.entries(m).filter(([name]) => name !== catalog));
}

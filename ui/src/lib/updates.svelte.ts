// What the window knows of a newer Rolehop: the launch check (which the shell makes at
// most once a day, and never with the setting off), "Check for updates" in Settings, and
// the install. One store, read by the banner and the Settings dialog.

import type { UpdateStatus } from "../bindings/UpdateStatus";
import { api, toCallError } from "./api";

export class UpdateStore {
  /** The last answer; null before any. */
  status: UpdateStatus | null = $state(null);
  busy = $state(false);
  /** Whether the banner was dismissed (it comes back with the next answer). */
  dismissed = $state(false);
  /** Whether the person asked for the last answer (the launch check's failures and
   *  "up to date" stay out of the way). */
  asked = $state(false);

  /** `onDemand`: the person asked; otherwise the launch check. */
  async check(onDemand: boolean): Promise<void> {
    this.asked = onDemand;
    await this.run(() => api.checkForUpdates(onDemand));
  }

  /** Whether the banner shows the last answer. */
  get shown(): boolean {
    if (this.status === null || this.dismissed) return false;
    const news = ["available", "refused", "installed"].includes(this.status.status);
    return news || (this.asked && updateSentence(this.status) !== null);
  }

  async install(): Promise<void> {
    this.asked = true;
    await this.run(() => api.installUpdate());
  }

  private async run(call: () => Promise<UpdateStatus>): Promise<void> {
    this.busy = true;
    try {
      this.status = await call();
    } catch (e) {
      this.status = { status: "failed", reason: toCallError(e).message };
    } finally {
      this.busy = false;
      this.dismissed = false;
    }
  }
}

/** What a status says in words; null for the quiet ones (nothing asked). */
export function updateSentence(s: UpdateStatus): string | null {
  switch (s.status) {
    case "available":
      return `Rolehop ${s.version} is available (you have ${s.current_version}).`;
    case "refused":
      return `The update to ${s.version} was refused: ${s.reason}`;
    case "failed":
      return `Could not check for updates: ${s.reason}`;
    case "installed":
      return `Rolehop ${s.version} is installed: quit and open Rolehop again to use it.`;
    case "up-to-date":
      return `Rolehop ${s.current_version} is the newest version.`;
    case "off":
      return "Update checks are off (Settings).";
    case "not-in-this-build":
      return "This build of Rolehop is updated by your distribution's package manager.";
    case "not-due":
      return null;
  }
}

export const updates = new UpdateStore();

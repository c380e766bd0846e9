// A session's console choices in the window: the dialogs' "Console" fields and the
// details pane's line. The rules (which names a profile or container may take, what a
// destination is) are the core's; an error names the field it refused.

import type { ConsoleBrowser } from "../bindings/ConsoleBrowser";
import type { ConsoleSettings } from "../bindings/ConsoleSettings";

export type BrowserKind = ConsoleBrowser["kind"];

export const BROWSERS: { kind: BrowserKind; label: string }[] = [
  { kind: "default", label: "Default browser" },
  { kind: "chrome", label: "Google Chrome" },
  { kind: "chromium", label: "Chromium" },
  { kind: "brave", label: "Brave" },
  { kind: "edge", label: "Microsoft Edge" },
  { kind: "firefox", label: "Firefox (container)" },
];

export const NO_CONSOLE_SETTINGS: ConsoleSettings = { browser: { kind: "default" }, destination: null, region: null };

/** The profile (Chromium family) or container (Firefox) of a browser choice. */
export function placeOf(browser: ConsoleBrowser): string {
  if (browser.kind === "firefox") return browser.container;
  if (browser.kind === "default") return "";
  return browser.profile;
}

/** The field a browser's place is entered in, by the name the core's errors use. */
export function placeField(kind: BrowserKind): "console_container" | "console_browser_profile" | null {
  if (kind === "default") return null;
  return kind === "firefox" ? "console_container" : "console_browser_profile";
}

/** A browser choice from the dialog's select and text field (the core checks the name). */
export function browserOf(kind: BrowserKind, place: string): ConsoleBrowser {
  const name = place.trim();
  switch (kind) {
    case "default":
      return { kind };
    case "firefox":
      return { kind, container: name };
    default:
      return { kind, profile: name };
  }
}

/** The settings the dialog's four fields give (empty destination and region: unset). */
export function consoleSettings(kind: BrowserKind, place: string, destination: string, region: string): ConsoleSettings {
  const blank = (v: string) => (v.trim() === "" ? null : v.trim());
  return { browser: browserOf(kind, place), destination: blank(destination), region: blank(region) };
}

/** "Google Chrome, profile Work · s3 · eu-central-1": where and on what the console opens. */
export function consoleSummary(settings: ConsoleSettings, effectiveRegion: string | null): string {
  const label = BROWSERS.find((b) => b.kind === settings.browser.kind)?.label ?? settings.browser.kind;
  const browser =
    settings.browser.kind === "default"
      ? label
      : settings.browser.kind === "firefox"
        ? `Firefox, container ${settings.browser.container}`
        : `${label}, profile ${placeOf(settings.browser)}`;
  const page = settings.destination ?? "home page";
  const region = settings.region ?? (effectiveRegion !== null ? `${effectiveRegion}, the session's` : "no region");
  return `${browser} · ${page} · ${region}`;
}

// The shell's commands, as generated from their Rust list (src-tauri/src/commands/list.rs)
// into bindings/commands.ts: no command name is written here. Every failure arrives as a
// CallError: the shell's errors are an ErrorPayload already, and anything else (the IPC
// layer refusing a call) is wrapped into one of kind "ipc". Every answer, event and error
// message passes the display filter (lib/shown.ts) on its way in.

import { Channel, invoke } from "@tauri-apps/api/core";
import { commands } from "../bindings/commands";
import type { ErrorKind } from "../bindings/ErrorKind";
import type { ErrorPayload } from "../bindings/ErrorPayload";
import type { Snapshot } from "../bindings/Snapshot";
import type { UiEvent } from "../bindings/UiEvent";
import { forWindow, shown } from "./shown";

/** A failed call: the engine's ErrorPayload, or ("ipc") a rejection that never reached it. */
export type CallError = ErrorPayload | { kind: "ipc"; message: string; field: null };

/** Every ErrorKind, so a payload's kind is checked against the generated union. */
const errorKinds: Record<ErrorKind, true> = {
  invalid: true,
  "not-found": true,
  conflict: true,
  storage: true,
  keychain: true,
  "session-failed": true,
  delivery: true,
  aws: true,
  browser: true,
  "login-failed": true,
};

function isErrorKind(kind: unknown): kind is ErrorKind {
  return typeof kind === "string" && Object.hasOwn(errorKinds, kind);
}

/** Any rejection as a CallError (a CallError stays as it is). */
export function toCallError(error: unknown): CallError {
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") {
    const kind = "kind" in error ? error.kind : undefined;
    if (isErrorKind(kind)) {
      const field = "field" in error && typeof error.field === "string" ? error.field : null;
      return { kind, message: shown(error.message), field };
    }
    if (kind === "ipc") return { kind, message: shown(error.message), field: null };
  }
  return { kind: "ipc", message: shown(String(error)), field: null };
}

/** Tauri's invoke, every rejection turned into a CallError. */
async function call<T>(command: string, args: Record<string, unknown>): Promise<T> {
  try {
    return forWindow(await invoke<T>(command, args));
  } catch (error) {
    throw toCallError(error);
  }
}

/** Every command, typed from its Rust signature (bindings/commands.ts, generated). */
const generated = commands(call);

export const api = {
  ...generated,
  /** Opens the event stream and returns the state to start from. */
  subscribe(onEvent: (event: UiEvent) => void): Promise<Snapshot> {
    const events = new Channel<UiEvent>();
    events.onmessage = (event) => onEvent(forWindow(event));
    return generated.subscribe(events);
  },
};

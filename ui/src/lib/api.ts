// The shell's commands, typed against the bindings generated from the Rust types.
// Every failure arrives as a CallError: the shell's errors are an ErrorPayload already,
// and anything else (the IPC layer refusing a call) is wrapped into one of kind "ipc".

import { Channel, invoke } from "@tauri-apps/api/core";
import type { CheckReport } from "../bindings/CheckReport";
import type { AccessKeyReport } from "../bindings/AccessKeyReport";
import type { ErrorKind } from "../bindings/ErrorKind";
import type { ErrorPayload } from "../bindings/ErrorPayload";
import type { HopNeeds } from "../bindings/HopNeeds";
import type { ImportReport } from "../bindings/ImportReport";
import type { Integration } from "../bindings/Integration";
import type { IntegrationChanges } from "../bindings/IntegrationChanges";
import type { LoginPrompt } from "../bindings/LoginPrompt";
import type { NewIntegration } from "../bindings/NewIntegration";
import type { KeysInput } from "../bindings/KeysInput";
import type { MfaAnswer } from "../bindings/MfaAnswer";
import type { NewIamUser } from "../bindings/NewIamUser";
import type { NewRole } from "../bindings/NewRole";
import type { OrgSyncRequest } from "../bindings/OrgSyncRequest";
import type { Profile } from "../bindings/Profile";
import type { RotatedKeys } from "../bindings/RotatedKeys";
import type { SessionChanges } from "../bindings/SessionChanges";
import type { SessionView } from "../bindings/SessionView";
import type { Settings } from "../bindings/Settings";
import type { Snapshot } from "../bindings/Snapshot";
import type { SyncReport } from "../bindings/SyncReport";
import type { UiEvent } from "../bindings/UiEvent";

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
      return { kind, message: error.message, field };
    }
    if (kind === "ipc") return { kind, message: error.message, field: null };
  }
  return { kind: "ipc", message: String(error), field: null };
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw toCallError(error);
  }
}

export const api = {
  /** Opens the event stream and returns the state to start from. */
  subscribe(onEvent: (event: UiEvent) => void): Promise<Snapshot> {
    const events = new Channel<UiEvent>();
    events.onmessage = onEvent;
    return call("subscribe", { events });
  },
  /** The engine's one toggle: active or pending stops, inactive or failed starts. */
  toggleSession: (id: string) => call<SessionView>("toggle_session", { id }),
  addIamUser: (spec: NewIamUser, keys: KeysInput) => call<SessionView>("add_iam_user", { spec, keys }),
  addRole: (spec: NewRole) => call<SessionView>("add_role", { spec }),
  /** Fields left out of `changes` keep their values; `null` clears one. */
  editSession: (id: string, changes: SessionChanges, keys: KeysInput | null = null) =>
    call<SessionView>("edit_session", { id, changes, keys }),
  removeSession: (id: string, cascade: boolean) => call<string[]>("remove_session", { id, cascade }),
  addProfile: (name: string) => call<Profile>("add_profile", { name }),
  renameProfile: (name: string, newName: string) => call<null>("rename_profile", { name, new_name: newName }),
  removeProfile: (name: string, reassignTo: string | null) =>
    call<null>("remove_profile", { name, reassign_to: reassignTo }),
  updateSettings: (settings: Settings) => call<Settings>("update_settings", { settings }),
  answerMfa: (requestId: string, answer: MfaAnswer) => call<null>("answer_mfa", { request_id: requestId, answer }),
  /** What importing the AWS files would do; changes nothing. */
  scanAwsConfig: () => call<ImportReport>("scan_aws_config", {}),
  importAwsConfig: (importKeys: boolean) => call<ImportReport>("import_aws_config", { import_keys: importKeys }),
  /** What each hop of a role session's chain needs from IAM (`rolehop trust show`). */
  trustNeeds: (id: string) => call<HopNeeds[]>("trust_needs", { id }),
  /** The role's trust policy read and evaluated for its hop (`rolehop trust check`). */
  trustCheck: (id: string) => call<CheckReport>("trust_check", { id }),
  /** An IAM user's keys as IAM lists them, with their ages; never asks for an MFA code. */
  accessKeys: (id: string) => call<AccessKeyReport>("access_keys", { id }),
  rotateAccessKey: (id: string) => call<RotatedKeys>("rotate_access_key", { id }),
  /** Opens the console signed in as the session in the default browser. */
  openConsole: (id: string) => call<null>("open_console", { id }),
  /** Whether the app starts at login (minimised to the tray): the platform's own record. */
  startAtLogin: () => call<boolean>("start_at_login", {}),
  setStartAtLogin: (enabled: boolean) => call<boolean>("set_start_at_login", { enabled }),
  /** One role session per member account of the organization `request.via` lists. */
  orgSync: (request: OrgSyncRequest) => call<SyncReport>("org_sync", { request }),
  /** IAM Identity Center: the integrations with their login status. */
  integrations: () => call<Integration[]>("integrations", {}),
  addIntegration: (spec: NewIntegration) => call<Integration>("add_integration", { spec }),
  editIntegration: (id: string, changes: IntegrationChanges) => call<Integration>("edit_integration", { id, changes }),
  removeIntegration: (id: string, cascade: boolean) => call<string[]>("remove_integration", { id, cascade }),
  /** Shows the device code at once; the polling goes on until `ssoLoginWait` resolves. */
  ssoLoginStart: (id: string) => call<LoginPrompt>("sso_login_start", { id }),
  ssoLoginWait: (id: string) => call<Integration>("sso_login_wait", { id }),
  ssoLoginCancel: (id: string) => call<null>("sso_login_cancel", { id }),
  /** Opens the waiting login's URL (Rust holds it) in the default browser. */
  ssoOpenBrowser: (id: string) => call<null>("sso_open_browser", { id }),
  ssoLogout: (id: string) => call<Integration>("sso_logout", { id }),
  ssoSync: (id: string, profileTemplate: string | null) =>
    call<SyncReport>("sso_sync", { id, profile_template: profileTemplate }),
};

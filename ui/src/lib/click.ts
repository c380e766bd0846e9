// What a click on a session does (its row, Enter or Space in the list, the details
// pane's button): the core's answer, `ClickAction::for_state`, generated into
// bindings/clickActions.ts. The tray's menu and the engine's toggle ask the same function,
// so no label here promises what the click will not do.

import { clickActions } from "../bindings/clickActions";
import type { ClickAction } from "../bindings/ClickAction";
import type { SessionState } from "../bindings/SessionState";

export function clickAction(state: SessionState): ClickAction {
  return clickActions[state.state];
}

/** The details pane's button. */
export function clickLabel(state: SessionState): string {
  return clickAction(state) === "stop" ? "Stop" : "Start";
}

/** A row's tooltip: the session's state, then what a click does. */
export function clickTitle(state: SessionState): string {
  const action = clickAction(state);
  switch (state.state) {
    case "pending":
      return `starting… — click to ${action}`;
    case "failed":
      return `failed: ${state.message} — click to ${action === "start" ? "retry" : action}`;
    default:
      return `${state.state} — click to ${action}`;
  }
}

// How every dialog submits: run the command once at a time (busy), and put a failure
// where the user will look for it — beside the field it names when the form has that
// field, else as the form's own error. The components hold a `FormState` in `$state`
// (so these mutations are reactive) and show it with `Field` and `FormError`.

import { toCallError, type CallError } from "./api";

export interface FormState {
  /** A command is running; the submit button is disabled and a second submit ignored. */
  busy: boolean;
  /** The last failure, or null. */
  error: CallError | null;
  /** The form control `error` is shown beside; null shows it as the form's error. */
  field: string | null;
}

export function formState(): FormState {
  return { busy: false, error: null, field: null };
}

/** The part of an HTML form this module reads: whether a `Field` of it has a name. */
export interface Controls {
  querySelector(selectors: string): unknown;
}

/** The selector of the `Field` named `name` (its label carries `data-field`). */
export function fieldSelector(name: string): string {
  return `[data-field="${name.replace(/["\\]/g, "\\$&")}"]`;
}

/** A refusal found before calling the shell, shaped as the shell's own refusals. */
export function invalid(field: string, message: string): CallError {
  return { kind: "invalid", message, field };
}

/** Shows `error` in `state`: beside its field if `form` shows that field. */
export function fail(state: FormState, error: CallError, form: Controls | null): void {
  state.error = error;
  state.field = error.field !== null && form?.querySelector(fieldSelector(error.field)) ? error.field : null;
}

/** The message to show beside the control `name`, if the error is about it. */
export function fieldMessage(state: FormState, name: string): string | null {
  return state.error !== null && state.field === name ? state.error.message : null;
}

/** The error to show for the form as a whole: one that names no control of it. */
export function formError(state: FormState): CallError | null {
  return state.field === null ? state.error : null;
}

/**
 * Runs `action` unless one is already running: clears the last error, marks the form
 * busy, and on a rejection (any value, a CallError or not) shows it. Resolves to
 * whether the action succeeded.
 */
export async function run(state: FormState, action: () => Promise<unknown>, form: Controls | null = null): Promise<boolean> {
  if (state.busy) return false;
  state.busy = true;
  state.error = null;
  state.field = null;
  try {
    await action();
    return true;
  } catch (e) {
    fail(state, toCallError(e), form);
    return false;
  } finally {
    state.busy = false;
  }
}

/**
 * A form's submit handler: stops the page from navigating, runs `action` for that form,
 * then `done` if it succeeded (typically closing the dialog).
 */
export function onSubmit(
  state: FormState,
  action: () => Promise<unknown>,
  done: () => void = () => {},
): (event: SubmitEvent) => Promise<void> {
  return async (event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement | null;
    if (await run(state, action, form)) done();
  };
}

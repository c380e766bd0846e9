// How every dialog submits: run the command once at a time (busy), and put a failure
// where the user will look for it — beside the field it names when the form has that
// field, else as the form's own error — in words (lib/sentences.ts). A form checks what
// it can before calling the shell (required fields, a whole number) and reports every
// such refusal at once (`refuseAll`); the shell's refusal of what remains is shown the
// same way. The components hold a `FormState` in `$state` (so these mutations are
// reactive) and show it with `Field` and `FormError`.

import { toCallError, type CallError } from "./api";
import { fieldSentence } from "./sentences";

export interface FormState {
  /** A command is running; the submit button is disabled and a second submit ignored. */
  busy: boolean;
  /** The last failure, or null. */
  error: CallError | null;
  /** The form control `error` is shown beside; null shows it as the form's error. */
  field: string | null;
  /** Every refusal shown beside a field of the form, in words, by field name. */
  fields: Record<string, string>;
}

export function formState(): FormState {
  return { busy: false, error: null, field: null, fields: {} };
}

/** Several refusals found at once before calling the shell (see `refuseAll`). */
export class Refusals {
  constructor(readonly errors: CallError[]) {}
}

/** Throws every refusal of `checks` at once (nulls are fields that passed), if any. */
export function refuseAll(checks: (CallError | null)[]): void {
  const errors = checks.filter((e): e is CallError => e !== null);
  if (errors.length > 0) throw new Refusals(errors);
}

/** A refusal of each of `fields` (name → value) left empty: what a form requires. */
export function missing(fields: Record<string, string>): CallError[] {
  return Object.entries(fields)
    .filter(([, value]) => value.trim() === "")
    .map(([field]) => invalid(field, "must not be empty"));
}

/** An optional text field's value: trimmed, or null when left empty. */
export function blank(value: string): string | null {
  return value.trim() === "" ? null : value.trim();
}

/**
 * An optional duration field (`duration`): its seconds, null when left empty, and the
 * refusal beside it when it is no whole number (null when it is), for `refuseAll`.
 */
export function durationSeconds(text: string): [number | null, CallError | null] {
  const seconds = text.trim() === "" ? null : Number(text);
  const refusal =
    seconds !== null && !Number.isInteger(seconds) ? invalid("duration", "must be a whole number of seconds") : null;
  return [seconds, refusal];
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

/**
 * Shows `errors` in `state`, each in words: beside its field if `form` shows that field,
 * else as the form's error (the first such one).
 */
export function fail(state: FormState, errors: CallError | CallError[], form: Controls | null): void {
  const all = Array.isArray(errors) ? errors : [errors];
  const worded = all.map((e) => (e.field === null ? e : { ...e, message: fieldSentence(e.field, e.message) }));
  const placed = (e: CallError) => e.field !== null && Boolean(form?.querySelector(fieldSelector(e.field)));
  const fields: Record<string, string> = {};
  for (const e of worded) if (placed(e) && e.field !== null) fields[e.field] ??= e.message;
  const unplaced = worded.find((e) => !placed(e));
  state.fields = fields;
  state.error = unplaced ?? worded[0] ?? null;
  state.field = unplaced === undefined ? (worded[0]?.field ?? null) : null;
}

/** The message to show beside the control `name`, if an error is about it. */
export function fieldMessage(state: FormState, name: string): string | null {
  return state.error !== null ? (state.fields[name] ?? null) : null;
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
  state.fields = {};
  try {
    await action();
    return true;
  } catch (e) {
    fail(state, e instanceof Refusals ? e.errors : toCallError(e), form);
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

import { describe, expect, it } from "vitest";
import {
  blank,
  durationSeconds,
  fieldMessage,
  fieldSelector,
  formError,
  formState,
  invalid,
  missing,
  onSubmit,
  refuseAll,
  run,
  type Controls,
} from "./submit";

/** A form that shows a `Field` for each of `fields`. */
const formWith = (...fields: string[]): Controls => ({
  querySelector: (selector: string) => (fields.some((f) => fieldSelector(f) === selector) ? {} : null),
});

const refusal = (field: string | null) => ({ kind: "invalid", message: "no good", field });

describe("run", () => {
  it("shows an error that names a field of the form beside that field", async () => {
    const state = formState();
    const ok = await run(state, () => Promise.reject(refusal("profile")), formWith("name", "profile"));
    expect(ok).toBe(false);
    expect(fieldMessage(state, "profile")).toBe("Profile: no good.");
    expect(fieldMessage(state, "name")).toBeNull();
    expect(formError(state)).toBeNull();
  });

  it("shows an error naming no field, or a field the form lacks, as the form's error", async () => {
    for (const field of [null, "source_identity"]) {
      const state = formState();
      await run(state, () => Promise.reject(refusal(field)), formWith("name"));
      expect(formError(state)?.message).toBe(field === null ? "no good" : "Source identity: no good.");
      expect(fieldMessage(state, "name")).toBeNull();
    }
  });

  it("turns a rejection that is not a CallError into a form error", async () => {
    const state = formState();
    await run(state, () => Promise.reject(new Error("ipc down")), formWith("name"));
    expect(formError(state)).toEqual({ kind: "ipc", message: "Error: ipc down", field: null });
  });

  it("clears the last error when the next attempt starts and succeeds", async () => {
    const state = formState();
    await run(state, () => Promise.reject(refusal("name")), formWith("name"));
    expect(await run(state, () => Promise.resolve(), formWith("name"))).toBe(true);
    expect(state.error).toBeNull();
    expect(fieldMessage(state, "name")).toBeNull();
  });

  it("is busy while the command runs and ignores a second submit meanwhile", async () => {
    const state = formState();
    let finish = () => {};
    let calls = 0;
    const slow = () => {
      calls += 1;
      return new Promise<void>((resolve) => (finish = resolve));
    };
    const first = run(state, slow);
    expect(state.busy).toBe(true);
    expect(await run(state, slow)).toBe(false);
    expect(calls).toBe(1);
    finish();
    expect(await first).toBe(true);
    expect(state.busy).toBe(false);
  });

  it("shows a refusal found before the call like one from the shell", async () => {
    const state = formState();
    await run(
      state,
      () => Promise.reject(invalid("duration", "must be a whole number of seconds")),
      formWith("duration"),
    );
    expect(fieldMessage(state, "duration")).toBe("The duration must be a whole number of seconds.");
  });

  it("part 7: shows every refusal found before the call at once, each beside its field", async () => {
    const state = formState();
    const ok = await run(
      state,
      async () => refuseAll([...missing({ name: "", profile: " ", region: "eu-west-1" }), null]),
      formWith("name", "profile", "region"),
    );
    expect(ok).toBe(false);
    expect(fieldMessage(state, "name")).toBe("Enter the name.");
    expect(fieldMessage(state, "profile")).toBe("Enter the profile.");
    expect(fieldMessage(state, "region")).toBeNull();
    expect(formError(state)).toBeNull();
  });

  it("part 7: a refusal among several that names no field of the form is the form's error", async () => {
    const state = formState();
    await run(
      state,
      async () => refuseAll([invalid("name", "must not be empty"), invalid("scopes", "needs at least one scope")]),
      formWith("name"),
    );
    expect(fieldMessage(state, "name")).toBe("Enter the name.");
    expect(formError(state)?.message).toBe("The scopes needs at least one scope.");
  });

  it("part 7: passes when nothing is refused", async () => {
    const state = formState();
    expect(await run(state, async () => refuseAll([null, ...missing({ name: "x" })]), formWith("name"))).toBe(true);
  });
});

describe("onSubmit", () => {
  const event = (form: Controls) => {
    let prevented = false;
    const e = { currentTarget: form, preventDefault: () => (prevented = true) } as unknown as SubmitEvent;
    return { e, prevented: () => prevented };
  };

  it("keeps the page from navigating and calls done only when the command succeeds", async () => {
    const state = formState();
    let closed = 0;
    const ok = event(formWith("name"));
    await onSubmit(state, () => Promise.resolve(), () => (closed += 1))(ok.e);
    expect(ok.prevented()).toBe(true);
    expect(closed).toBe(1);

    const refused = event(formWith("name"));
    await onSubmit(state, () => Promise.reject(refusal("name")), () => (closed += 1))(refused.e);
    expect(closed).toBe(1);
    expect(fieldMessage(state, "name")).toBe("Name: no good.");
  });
});

describe("fieldSelector", () => {
  it("quotes the name so any field name is one attribute selector", () => {
    expect(fieldSelector("mfa_code")).toBe('[data-field="mfa_code"]');
    expect(fieldSelector('a"b')).toBe('[data-field="a\\"b"]');
  });
});

describe("blank", () => {
  it("trims an optional field and makes an empty one null", () => {
    expect(blank("  eu-west-1 ")).toBe("eu-west-1");
    expect(blank("   ")).toBeNull();
    expect(blank("")).toBeNull();
  });
});

describe("durationSeconds", () => {
  it("reads whole seconds, null when empty, and refuses anything else beside `duration`", () => {
    expect(durationSeconds(" 3600 ")).toEqual([3600, null]);
    expect(durationSeconds("  ")).toEqual([null, null]);
    expect(durationSeconds("90.5")).toEqual([90.5, invalid("duration", "must be a whole number of seconds")]);
    expect(durationSeconds("an hour")[1]).toEqual(invalid("duration", "must be a whole number of seconds"));
  });
});

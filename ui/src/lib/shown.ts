// Text Rolehop did not write, made safe to show in the window: the same rules as the
// core's one display filter (rolehop-model's display_text::for_terminal), applied once,
// where every command's answer and every event enters the web view (lib/api.ts). AWS
// error messages, IAM's policies and names, account names from Organizations and IAM
// Identity Center, values from the AWS files: a C0 or C1 control or a bidirectional
// override (the "Trojan Source" trick) is shown by its code instead of acting on the
// text around it. Line breaks and tabs stay (policies are shown as written), and a
// string is cut at MAX_SHOWN_CHARS.

/** The longest string the window shows. */
export const MAX_SHOWN_CHARS = 64 * 1024;

// C0 controls but tab and line feed, DEL, C1 controls; bidi embeddings, overrides, isolates.
const UNSAFE_CHARS = "[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]";
const UNSAFE = new RegExp(UNSAFE_CHARS, "g");
/** The same, without the global flag's state: only asks whether there is one. */
const HAS_UNSAFE = new RegExp(UNSAFE_CHARS);

function escape(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  if (code === 0x1b) return "\\e";
  if (code < 0x100) return `\\x${code.toString(16).padStart(2, "0")}`;
  return `\\u{${code.toString(16)}}`;
}

/** One string as the window shows it. */
export function shown(text: string): string {
  const safe = text.replace(UNSAFE, escape);
  return safe.length > MAX_SHOWN_CHARS ? `${safe.slice(0, MAX_SHOWN_CHARS - 1)}…` : safe;
}

/** Whether `text` is shown differently from how it is. */
function unsafe(text: string): boolean {
  return text.length > MAX_SHOWN_CHARS || HAS_UNSAFE.test(text);
}

/**
 * Every string inside `value` (objects, arrays) as the window shows it. Copies only
 * what changes: a snapshot of thousands of sessions with nothing to filter comes back
 * as it was, at the cost of one scan of its strings.
 */
export function forWindow<T>(value: T): T {
  if (typeof value === "string") return (unsafe(value) ? shown(value) : value) as T;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const f = forWindow(v);
      if (f !== v) (out ??= [...value])[i] = f;
    }
    return (out ?? value) as T;
  }
  if (value !== null && typeof value === "object") {
    // Plain objects from JSON: `for...in` sees exactly their own keys.
    const record = value as Record<string, unknown>;
    let out: Record<string, unknown> | null = null;
    for (const k in record) {
      const v = record[k];
      const f = forWindow(v);
      if (f !== v) (out ??= { ...record })[k] = f;
    }
    return (out ?? value) as T;
  }
  return value;
}

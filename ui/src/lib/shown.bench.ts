// What the display filter (lib/shown.ts) costs where a snapshot enters the window: every
// string of 5,000 sessions, at launch and on each workspace change (not per keystroke).
// `npx vitest bench --run src/lib/shown.bench.ts` (in ui/).

import { bench, describe } from "vitest";
import { forWindow } from "./shown";
import { many } from "../test/sessions";

const sessions = many(5000);

describe("a snapshot of 5,000 sessions entering the window", () => {
  bench("forWindow", () => {
    forWindow(sessions);
  });
});

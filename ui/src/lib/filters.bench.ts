// One keystroke's filtering over 5,000 sessions, as the search box runs it: the figure
// that must stay well under a frame (16 ms). `npx vitest bench --run` (in ui/) prints
// it; the real window's keystroke (filter + DOM + layout) is in tests/benches/desktop.rs.

import { bench, describe } from "vitest";
import { filterSessions, noFilters } from "./filters";
import { many } from "../test/sessions";
import { filterOffers } from "./roleOffers";
import { manyOffers } from "../test/offers";

const sessions = many(5000);
const typed = ["r", "ro", "rol", "role", "role-4", "role-49", "deploy4"];

describe("one keystroke over 5,000 sessions", () => {
  // The search keys are built on the first keystroke after a session changes.
  filterSessions(sessions, { ...noFilters, text: "w" });
  let i = 0;
  const next = () => typed[i++ % typed.length] ?? "";

  bench("search text", () => {
    filterSessions(sessions, { ...noFilters, text: next() });
  });

  bench("search text and two profiles", () => {
    filterSessions(sessions, { ...noFilters, text: next(), profiles: ["team-1", "team-9"] });
  });

  // Fresh copies (new objects, so no cached key), made before timing; one per run.
  const copies = Array.from({ length: 60 }, () => sessions.map((s) => ({ ...s })));
  bench(
    "first keystroke after every session changed (search keys built)",
    () => {
      filterSessions(copies.pop() ?? sessions, { ...noFilters, text: next() });
    },
    { iterations: 50, time: 0, warmupIterations: 5, warmupTime: 0 },
  );
});

// The federated role picker's filter (lib/roleOffers.ts) over one response's 50 roles.
describe("one keystroke over 50 offered roles", () => {
  const offers = manyOffers(50);
  const roleTyped = ["t", "te", "tea", "team", "team-", "team-4", "dep"];
  let i = 0;
  bench("role picker filter", () => {
    filterOffers(offers, roleTyped[i++ % roleTyped.length] ?? "");
  });
});

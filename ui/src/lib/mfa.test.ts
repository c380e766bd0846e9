import { describe, expect, it } from "vitest";
import { MfaQueue } from "./mfa.svelte";
import type { MfaRequest } from "../bindings/MfaRequest";

const request = (id: string): MfaRequest => ({
  request_id: id,
  session: "00000000-0000-4000-8000-000000000001",
  session_name: "alice",
  mfa_serial: "arn:aws:iam::111111111111:mfa/alice",
  for_session: "Deploy",
});

describe("MfaQueue", () => {
  it("answers the oldest request first and queues the others", () => {
    const queue = new MfaQueue();
    queue.push(request("a"));
    queue.push(request("b"));
    expect(queue.current?.request_id).toBe("a");
    queue.settle("a");
    expect(queue.current?.request_id).toBe("b");
    queue.settle("b");
    expect(queue.current).toBeNull();
  });

  it("ignores a request it already holds", () => {
    const queue = new MfaQueue();
    queue.load([request("a")]);
    queue.push(request("a"));
    expect(queue.requests).toHaveLength(1);
  });

  it("drops a request settled out of order (timed out behind another)", () => {
    const queue = new MfaQueue();
    queue.load([request("a"), request("b"), request("c")]);
    queue.settle("b");
    expect(queue.requests.map((r) => r.request_id)).toEqual(["a", "c"]);
  });
});

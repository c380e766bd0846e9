// The MFA domain: requests waiting for a code, oldest first. The dialog answers the
// first; the others wait their turn.

import type { MfaRequest } from "../bindings/MfaRequest";

export class MfaQueue {
  requests: MfaRequest[] = $state.raw([]);

  get current(): MfaRequest | null {
    return this.requests[0] ?? null;
  }

  load(requests: MfaRequest[]): void {
    this.requests = requests;
  }

  push(request: MfaRequest): void {
    if (this.requests.some((r) => r.request_id === request.request_id)) return;
    this.requests = [...this.requests, request];
  }

  /** Removes a request (answered, cancelled or timed out). */
  settle(requestId: string): void {
    this.requests = this.requests.filter((r) => r.request_id !== requestId);
  }
}

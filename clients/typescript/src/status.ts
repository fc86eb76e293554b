import type { RequestStatus } from "./types.ts";

/** The statuses nothing moves a request or a workflow run out of. */
export type TerminalStatus = Extract<RequestStatus, "COMPLETED" | "FAILED" | "CANCELLED">;

const TERMINAL: ReadonlySet<string> = new Set<TerminalStatus>(["COMPLETED", "FAILED", "CANCELLED"]);

/**
 * Whether a request or a workflow run has ended. The client is published on its own and cannot import the
 * platform's schemas/, so this mirrors `isTerminal` in schemas/status.ts.
 */
export function isTerminal(status: string): status is TerminalStatus {
  return TERMINAL.has(status);
}

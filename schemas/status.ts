import { z } from "zod";

/**
 * The status of a request, and of a workflow run (the same words). The last three are terminal: nothing moves a job
 * or a run out of them. Workflow nodes add `PENDING` (schemas/workflow-api.ts), which is not terminal either.
 */
export const RequestStatus = z.enum(["QUEUED", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED"]);
export type RequestStatus = z.infer<typeof RequestStatus>;
export type TerminalStatus = Extract<RequestStatus, "COMPLETED" | "FAILED" | "CANCELLED">;

const TERMINAL: ReadonlySet<string> = new Set<TerminalStatus>(["COMPLETED", "FAILED", "CANCELLED"]);

/** Whether a job, request, workflow run or workflow node has ended; the one terminal check of the platform. */
export function isTerminal(status: string): status is TerminalStatus {
  return TERMINAL.has(status);
}

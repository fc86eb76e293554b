import type { JobErrorKind } from "../../../../schemas/index.ts";

type File = { bytes: Uint8Array; contentType: string };
type Output = { name: string; contentType: string; bytes: Uint8Array };

/** Messages between the agent's main thread and the model thread. */
export type ToModel =
  | { type: "available"; id: number }
  | { type: "warm"; id: number; model: string }
  | { type: "run"; id: number; model: string; params: Record<string, unknown>; files: Record<string, File> };

export type FromModel =
  | { type: "available"; id: number; models: string[] }
  | { type: "warmed"; id: number; loadMs: number }
  | { type: "result"; id: number; outputs: Output[]; json?: unknown; gpuMs: number; loadMs: number }
  | { type: "error"; id: number; kind: JobErrorKind; message: string; retryable: boolean };

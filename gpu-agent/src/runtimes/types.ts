export interface InputFile {
  bytes: Uint8Array;
  contentType: string;
}

export interface RunRequest {
  jobId: string;
  model: string;
  /** parameters with image inputs replaced by their bytes */
  params: Record<string, unknown>;
  files: Record<string, InputFile>;
  /** called as the runtime reports progress (ComfyUI's sampler steps); the agent sends the latest on heartbeats */
  onProgress?: (p: { step: number; total: number }) => void;
}

export interface RunOutput {
  outputs: { name: string; contentType: string; bytes: Uint8Array }[];
  json?: unknown;
  /** monotonic wall time of the model execution */
  gpuMs: number;
  /** model load time this job waited for (0 when warm) */
  loadMs: number;
}

/** A runtime adapter: the built-in CPU models here; HTTP backends (ComfyUI, Cog) on GPU hosts. */
export interface RuntimeAdapter {
  readonly name: string;
  /** models this runtime can serve on this host */
  models(): Promise<string[]>;
  /** load a model and run a warm-up inference; after this it is reported as loaded */
  warm(model: string): Promise<void>;
  loaded(): string[];
  run(req: RunRequest): Promise<RunOutput>;
  /** release cached models and memory before an out-of-memory retry */
  free?(): Promise<void>;
  /** stop a running job (the platform cancelled it); its run() then rejects with JobAborted */
  cancel?(jobId: string): Promise<void>;
  /** a runtime that runs graphs sent with the job (ComfyUI): the custom node types and model files it has */
  capabilities?(): Promise<{ node_types: string[]; files: string[] }>;
  close(): Promise<void>;
}

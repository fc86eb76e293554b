import { spawn, type ChildProcess } from "node:child_process";

export interface BackendProcessOptions {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  /** crashes within `windowMs` after which the supervisor gives up (the host should be replaced) */
  maxCrashes?: number;
  windowMs?: number;
  backoffMs?: number;
  onExit?: (code: number | null, signal: string | null) => void;
  onFatal?: (reason: string) => void;
}

/**
 * Runs a backend server (ComfyUI, Cog) as a child of the agent and keeps it running: when it dies, the runtime is
 * told (its jobs fail as retryable backend crashes and the broker requeues them), and it is restarted with
 * exponential backoff; after repeated crashes the supervisor gives up so the agent can exit non-zero.
 */
export class BackendProcess {
  private opts: Required<Omit<BackendProcessOptions, "onExit" | "onFatal" | "env" | "args">> & BackendProcessOptions;
  private child: ChildProcess | null = null;
  private crashes: number[] = [];
  private stopped = false;
  restarts = 0;
  fatal: string | null = null;

  constructor(opts: BackendProcessOptions) {
    this.opts = { maxCrashes: 5, windowMs: 10 * 60_000, backoffMs: 1000, ...opts };
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    const child = spawn(this.opts.command, this.opts.args ?? [], { env: { ...process.env, ...(this.opts.env ?? {}) }, stdio: ["ignore", "inherit", "inherit"] });
    this.child = child;
    child.on("exit", (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      this.opts.onExit?.(code, signal);
      if (!this.stopped) void this.restart(`exit ${code ?? signal}`);
    });
  }

  private async restart(reason: string): Promise<void> {
    const now = Date.now();
    this.crashes = [...this.crashes.filter((t) => now - t < this.opts.windowMs), now];
    if (this.crashes.length >= this.opts.maxCrashes) {
      this.fatal = `backend ${this.opts.command} crashed ${this.crashes.length} times (last: ${reason})`;
      this.opts.onFatal?.(this.fatal);
      return;
    }
    await new Promise((r) => setTimeout(r, this.opts.backoffMs * 2 ** (this.crashes.length - 1)));
    if (this.stopped) return;
    this.restarts++;
    this.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}

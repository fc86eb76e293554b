import { spawn, type ChildProcess } from "node:child_process";
import { CrashSupervisor, type SupervisorOptions } from "./supervisor.ts";

export interface BackendProcessOptions extends SupervisorOptions {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  onExit?: (code: number | null, signal: string | null) => void;
}

/**
 * Runs a backend server (ComfyUI, Cog) as a child of the agent and keeps it running: when it dies, the runtime is
 * told (its jobs fail as retryable backend crashes and the broker requeues them), and the crash supervisor restarts
 * it or gives up so the agent can exit non-zero.
 */
export class BackendProcess {
  private opts: BackendProcessOptions;
  private child: ChildProcess | null = null;
  private supervisor: CrashSupervisor;

  constructor(opts: BackendProcessOptions) {
    this.opts = opts;
    this.supervisor = new CrashSupervisor(`backend ${opts.command}`, () => this.start(), { backoffMs: 1000, ...opts });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get restarts(): number {
    return this.supervisor.restarts;
  }

  get fatal(): string | null {
    return this.supervisor.fatal;
  }

  start(): void {
    const env = { ...process.env, ...(this.opts.env ?? {}) };
    const child = spawn(this.opts.command, this.opts.args ?? [], { env, stdio: ["ignore", "inherit", "inherit"] });
    this.child = child;
    child.on("exit", (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      this.opts.onExit?.(code, signal);
      void this.supervisor.crashed(`exit ${code ?? signal}`);
    });
  }

  async stop(): Promise<void> {
    this.supervisor.stop();
    const child = this.child;
    if (!child) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}

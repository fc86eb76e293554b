export interface SupervisorOptions {
  /** crashes within `windowMs` after which the supervisor gives up (the host should be replaced) */
  maxCrashes?: number;
  windowMs?: number;
  /** first restart delay; doubles per crash in the window */
  backoffMs?: number;
  /** called once when the supervisor gives up; the agent then drains and exits non-zero */
  onFatal?: (reason: string) => void;
}

/**
 * The one crash policy of the agent, shared by the built-in model thread and a backend process (ComfyUI, Cog):
 * each crash is recorded, the thing is restarted after an exponential backoff, and after `maxCrashes` crashes within
 * `windowMs` the supervisor gives up instead, so a host that keeps failing is replaced rather than retried forever.
 */
export class CrashSupervisor {
  private opts: Required<Omit<SupervisorOptions, "onFatal">> & Pick<SupervisorOptions, "onFatal">;
  private crashes: number[] = [];
  private stopped = false;
  /** times the supervised thing was restarted after a crash */
  restarts = 0;
  /** why the supervisor gave up; null while it has not */
  fatal: string | null = null;

  private what: string;
  private restart: () => void | Promise<void>;

  constructor(what: string, restart: () => void | Promise<void>, opts: SupervisorOptions & { backoffMs: number }) {
    this.what = what;
    this.restart = restart;
    this.opts = { maxCrashes: 5, windowMs: 10 * 60_000, ...opts };
  }

  /** Records a crash and restarts after the backoff; resolves once restarted, or at once when giving up. */
  async crashed(reason: string): Promise<void> {
    if (this.stopped || this.fatal) return;
    const now = Date.now();
    this.crashes = [...this.crashes.filter((t) => now - t < this.opts.windowMs), now];
    if (this.crashes.length >= this.opts.maxCrashes) {
      this.fatal = `${this.what} crashed ${this.crashes.length} times in ${this.opts.windowMs} ms (last: ${reason})`;
      this.opts.onFatal?.(this.fatal);
      return;
    }
    await new Promise((r) => setTimeout(r, this.opts.backoffMs * 2 ** (this.crashes.length - 1)));
    if (this.stopped) return;
    this.restarts++;
    await this.restart();
  }

  /** No more restarts: the owner is shutting down, so an exit now is not a crash. */
  stop(): void {
    this.stopped = true;
  }

  get stopping(): boolean {
    return this.stopped;
  }
}

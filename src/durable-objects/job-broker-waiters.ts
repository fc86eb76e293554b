/**
 * Callers waiting in memory for jobs to end (a synchronous request's `waitFor`): each waits until its job's terminal
 * transition wakes it, or until its timeout. In memory only, like the RPC calls that wait on them.
 */
export class SyncWaiters {
  private byJob = new Map<string, Set<() => void>>();

  wait(jobId: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const set = this.byJob.get(jobId) ?? new Set();
      this.byJob.set(jobId, set);
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      function done() {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      }
      set.add(done);
    });
  }

  wake(jobId: string): void {
    for (const wake of this.byJob.get(jobId) ?? []) wake();
    this.byJob.delete(jobId);
  }
}

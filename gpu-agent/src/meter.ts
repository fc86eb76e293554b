/**
 * Billable compute is the monotonic wall time of the model execution itself (not queueing, input download, model
 * load or upload), times the GPUs used. `performance.now()` is monotonic: NTP steps cannot stretch or shrink it.
 */
export class Stopwatch {
  private started = performance.now();
  elapsedMs(): number {
    return Math.max(0, Math.round(performance.now() - this.started));
  }
}

export function measure<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const sw = new Stopwatch();
  return fn().then((value) => ({ value, ms: sw.elapsedMs() }));
}

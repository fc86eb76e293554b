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

import { Endpoint } from "../../../src/durable-objects/endpoint.ts";
import { STEP_MS, type EndpointSnapshot } from "../../../src/durable-objects/endpoint-state.ts";

/** Kept in the object's key-value storage, so the simulated time survives the object being evicted and woken. */
const CLOCK = "test:clock";

/**
 * The endpoint the worker tests bind as ENDPOINT (vitest.config.ts): its clock starts at the real time it was first
 * read and then moves only through `advance`, which runs the steps the alarm would have run on the way, so an hour is
 * simulated exactly. It sets no alarm: nothing moves by itself.
 */
export class TestEndpoint extends Endpoint {
  protected override now(): number {
    const kv = this.ctx.storage.kv;
    const t = kv.get<number>(CLOCK);
    if (t !== undefined) return t;
    const now = Date.now();
    kv.put(CLOCK, now);
    return now;
  }

  protected override async schedule(): Promise<void> {}

  /** Moves the clock forward, running every step the alarm would have run on the way. */
  async advance(ms: number): Promise<EndpointSnapshot> {
    return this.lane.run(async () => {
      let left = ms;
      while (left > 0) {
        const d = Math.min(STEP_MS, left);
        const now = this.now() + d;
        this.ctx.storage.kv.put(CLOCK, now);
        left -= d;
        if (this.wants()) await this.step(now);
      }
      return this.snapshot();
    });
  }
}

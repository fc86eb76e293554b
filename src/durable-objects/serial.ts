/**
 * One operation at a time inside a Durable Object whose steps await other objects or D1: the input gate lets another
 * call in at every such await, and these steps must not interleave. Each call runs after the previous one settles,
 * whether it succeeded or not.
 */
export class SerialLane {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

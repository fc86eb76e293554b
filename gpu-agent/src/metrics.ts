import { createServer, type Server } from "node:http";

type Labels = Record<string, string>;
const key = (l: Labels) =>
  Object.entries(l)
    .sort()
    .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`)
    .join(",");

/** Counters, gauges and histograms in the Prometheus text exposition format, without a dependency. */
export class Metrics {
  private counters = new Map<string, { help: string; values: Map<string, number> }>();
  private gauges = new Map<string, { help: string; read: () => number }>();
  private histograms = new Map<
    string,
    { help: string; buckets: number[]; counts: number[]; sum: number; count: number }
  >();

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    const c = this.counters.get(name) ?? { help, values: new Map() };
    this.counters.set(name, c);
    const k = key(labels);
    c.values.set(k, (c.values.get(k) ?? 0) + by);
  }

  gauge(name: string, help: string, read: () => number): void {
    this.gauges.set(name, { help, read });
  }

  observe(name: string, help: string, value: number, buckets = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]): void {
    const h = this.histograms.get(name) ?? { help, buckets, counts: buckets.map(() => 0), sum: 0, count: 0 };
    this.histograms.set(name, h);
    h.buckets.forEach((b, i) => {
      if (value <= b) h.counts[i]!++;
    });
    h.sum += value;
    h.count++;
  }

  render(): string {
    const out: string[] = [];
    for (const [name, c] of this.counters) {
      out.push(`# HELP ${name} ${c.help}`, `# TYPE ${name} counter`);
      for (const [k, v] of c.values) out.push(`${name}${k ? `{${k}}` : ""} ${v}`);
    }
    for (const [name, g] of this.gauges)
      out.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`, `${name} ${g.read()}`);
    for (const [name, h] of this.histograms) {
      out.push(`# HELP ${name} ${h.help}`, `# TYPE ${name} histogram`);
      h.buckets.forEach((b, i) => out.push(`${name}_bucket{le="${b}"} ${h.counts[i]}`));
      out.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${h.sum}`, `${name}_count ${h.count}`);
    }
    return `${out.join("\n")}\n`;
  }

  /** Serves /metrics on 127.0.0.1 (scrape it locally or through the host's exporter). */
  async serve(port: number): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.url !== "/metrics") return res.writeHead(404).end();
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(this.render());
    });
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    return server;
  }
}

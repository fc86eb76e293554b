/**
 * Built-in model benchmark: for each CPU model of the agent, in a fresh process of its own (so nothing is shared or
 * already loaded), the cold time (model thread start, package import, weights load and warm-up inference), the
 * first and the median warm execution time on a fixed input (the `gpu_ms` an agent would report), the process's
 * peak resident memory, and the package's licence and size on disk.
 * Usage: node test/bench/models.ts [--runs 5] [--only slug,slug] [--backend cpu]   (results: test/bench/results/)
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";

const ROOT = path.resolve(import.meta.dirname, "../..");
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const RUNS = Number(arg("runs") ?? 5);

/** Each benchmarked case: the model, its parameters and input, and the package whose weights it uses. */
const SHARP = ["sharp", "@img/sharp-linux-x64", "@img/sharp-libvips-linux-x64"];
const CASES: {
  id: string;
  model: string;
  params: Record<string, unknown>;
  input: "photo" | "small" | "faces";
  pkg: string | string[];
}[] = [
  { id: "nsfw-detector", model: "nsfw-detector", params: {}, input: "photo", pkg: "nsfwjs" },
  { id: "image-resize", model: "image-resize", params: { width: 256, mode: "fit" }, input: "photo", pkg: SHARP },
  { id: "image-crop", model: "image-crop", params: { aspect_ratio: "1:1" }, input: "photo", pkg: SHARP },
  {
    id: "image-composite",
    model: "image-composite",
    params: { background: "linear-gradient(90deg, #000000, #ffffff)", scale: 0.8 },
    input: "photo",
    pkg: SHARP,
  },
  {
    id: "image-convert (webp)",
    model: "image-convert",
    params: { format: "webp", quality: 80 },
    input: "photo",
    pkg: SHARP,
  },
  {
    id: "image-convert (avif)",
    model: "image-convert",
    params: { format: "avif", quality: 50 },
    input: "photo",
    pkg: SHARP,
  },
  {
    id: "text-overlay",
    model: "text-overlay",
    params: { text: "© example", font_size: 32 },
    input: "photo",
    pkg: SHARP,
  },
  { id: "face-detection", model: "face-detection", params: {}, input: "faces", pkg: "@vladmandic/face-api" },
  ...[2, 3, 4].map((scale) => ({
    id: `esrgan-slim ${scale}x`,
    model: "esrgan-slim",
    params: { scale },
    input: "small" as const,
    pkg: "@upscalerjs/esrgan-slim",
  })),
  ...[2, 3, 4].map((scale) => ({
    id: `esrgan-medium ${scale}x`,
    model: "esrgan-medium",
    params: { scale },
    input: "small" as const,
    pkg: "@upscalerjs/esrgan-medium",
  })),
];

interface Result {
  id: string;
  cold_ms: number;
  first_ms: number;
  warm_ms: number;
  peak_rss_mib: number;
  output: string;
}

/** One case, in this (fresh) process. */
async function one(id: string): Promise<Result> {
  const c = CASES.find((x) => x.id === id)!;
  const photo = readFileSync(path.join(ROOT, "examples", "photo.jpg"));
  const faces = path.join(ROOT, "node_modules/@vladmandic/face-api/demo/sample1.jpg");
  const bytes = new Uint8Array(
    c.input === "photo"
      ? photo
      : c.input === "faces"
        ? readFileSync(faces)
        : await sharp(photo).resize(128, 128, { fit: "cover" }).png().toBuffer(),
  );
  const { BuiltinRuntime } = await import("../../gpu-agent/src/runtimes/builtin/index.ts");
  const t0 = performance.now();
  const rt = new BuiltinRuntime();
  await rt.warm(c.model);
  const cold = performance.now() - t0;
  const times: number[] = [];
  let output = "";
  for (let i = 0; i < RUNS; i++) {
    const r = await rt.run({
      jobId: `bench-${i}`,
      model: c.model,
      params: c.params,
      files: { image: { bytes, contentType: "image/jpeg" } },
    });
    times.push(r.gpuMs);
    const o = r.outputs[0];
    if (o) {
      const m = await sharp(o.bytes).metadata();
      output = `${m.width}x${m.height} ${o.contentType}`;
    } else output = "JSON";
  }
  await rt.close();
  const warm = [...times.slice(1)].sort((a, b) => a - b)[Math.floor((times.length - 1) / 2)] ?? times[0]!;
  // the model thread lives in this process, so the process's peak RSS covers the model
  return {
    id,
    cold_ms: Math.round(cold),
    first_ms: times[0]!,
    warm_ms: warm,
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
    output,
  };
}

/** Licences and size on disk of the packages a model needs beyond the shared TensorFlow.js runtime. */
function packageInfo(pkgs: string | string[]): { license: string; size_mib: number } {
  const licenses = new Set<string>();
  let kib = 0;
  for (const pkg of [pkgs].flat()) {
    const dir = path.join(ROOT, "node_modules", pkg);
    licenses.add(
      (JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { license?: string }).license ?? "?",
    );
    kib += Number(execFileSync("du", ["-sk", "--dereference", dir], { encoding: "utf8" }).split("\t")[0]);
  }
  return { license: [...licenses].join(" + "), size_mib: Math.round((kib / 1024) * 10) / 10 };
}

if (arg("one")) {
  process.stdout.write(`${JSON.stringify(await one(arg("one")!))}\n`);
  process.exit(0);
}

const only = arg("only")?.split(",");
const rows: (Result & { license: string; size_mib: number; input: string })[] = [];
for (const c of CASES.filter((x) => !only || only.some((o) => x.id.startsWith(o)))) {
  const env = { ...process.env, ...(arg("backend") ? { TFJS_BACKEND: arg("backend")! } : {}) };
  const out = execFileSync(process.execPath, [import.meta.filename, "--one", c.id, "--runs", String(RUNS)], {
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const r = JSON.parse(out.trim().split("\n").pop()!) as Result;
  const input = { photo: "512x384 JPEG", faces: "1920x1280 JPEG, 3 faces", small: "128x128 PNG" }[c.input];
  rows.push({ ...r, ...packageInfo(c.pkg), input });
  console.log(
    `${r.id.padEnd(22)} cold ${String(r.cold_ms).padStart(6)} ms  first ${String(r.first_ms).padStart(6)} ms  warm ${String(r.warm_ms).padStart(6)} ms  peak RSS ${r.peak_rss_mib} MiB  -> ${r.output}`,
  );
}
const table = [
  "| model | input | output | cold (load + warm-up) | first run | warm run (median) | peak RSS | package licence, size |",
  "|---|---|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.id} | ${r.input} | ${r.output} | ${r.cold_ms} ms | ${r.first_ms} ms | ${r.warm_ms} ms | ${r.peak_rss_mib} MiB | ${r.license}, ${r.size_mib} MiB |`,
  ),
].join("\n");
mkdirSync(path.join(ROOT, "test/bench/results"), { recursive: true });
const stamp = new Date().toISOString();
writeFileSync(
  path.join(ROOT, "test/bench/results/models.md"),
  `# Built-in models (${stamp}, ${RUNS} runs, backend ${arg("backend") ?? "wasm"})\n\n${table}\n`,
);
writeFileSync(path.join(ROOT, "test/bench/results/models.json"), JSON.stringify({ stamp, runs: RUNS, rows }, null, 2));
console.log(`\n${table}`);

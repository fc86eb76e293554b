import { readFileSync } from "node:fs";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuiltinRuntime } from "../../gpu-agent/src/runtimes/builtin/index.ts";

const rt = new BuiltinRuntime();
afterAll(() => rt.close());

const png = async (s: ReturnType<typeof sharp>) => new Uint8Array(await s.png().toBuffer());
const file = (bytes: Uint8Array) => ({ bytes, contentType: "image/png" });
const run = (model: string, params: Record<string, unknown>, files: Record<string, Uint8Array>) =>
  rt.run({
    jobId: `${model}-${Math.random()}`,
    model,
    params,
    files: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, file(v)])),
  });
const out = async (r: Awaited<ReturnType<typeof run>>) => {
  const bytes = r.outputs[0]!.bytes;
  const meta = await sharp(bytes).metadata();
  const raw = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const pixel = (x: number, y: number) => [
    ...raw.data.subarray((y * raw.info.width + x) * 4, (y * raw.info.width + x) * 4 + 4),
  ];
  return { meta, pixel, contentType: r.outputs[0]!.contentType, raw };
};
const near = (a: number[], b: number[], tol = 12) => a.every((v, i) => Math.abs(v - b[i]!) <= tol);

let halves: Uint8Array; // 400x200: left half red, right half blue
let cutout: Uint8Array; // 100x100 transparent with a 50x50 green square in the middle
beforeAll(async () => {
  const blue = await sharp({ create: { width: 200, height: 200, channels: 3, background: "#0000ff" } })
    .png()
    .toBuffer();
  halves = await png(
    sharp({ create: { width: 400, height: 200, channels: 3, background: "#ff0000" } }).composite([
      { input: blue, left: 200, top: 0 },
    ]),
  );
  const green = await sharp({ create: { width: 50, height: 50, channels: 4, background: "#00ff00ff" } })
    .png()
    .toBuffer();
  cutout = await png(
    sharp({ create: { width: 100, height: 100, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).composite([
      { input: green, left: 25, top: 25 },
    ]),
  );
});

const RED = [255, 0, 0, 255];
const BLUE = [0, 0, 255, 255];
const GREEN = [0, 255, 0, 255];
const WHITE = [255, 255, 255, 255];

describe("image-resize", () => {
  it("fits inside, fills exactly, or covers and crops by gravity", async () => {
    const fit = await out(await run("image-resize", { width: 100, mode: "fit" }, { image: halves }));
    expect([fit.meta.width, fit.meta.height]).toEqual([100, 50]);
    expect(near(fit.pixel(10, 25), RED) && near(fit.pixel(90, 25), BLUE)).toBe(true);
    const fill = await out(await run("image-resize", { width: 100, height: 100, mode: "fill" }, { image: halves }));
    expect([fill.meta.width, fill.meta.height]).toEqual([100, 100]);
    expect(near(fill.pixel(10, 50), RED) && near(fill.pixel(90, 50), BLUE)).toBe(true);
    const left = await out(
      await run("image-resize", { width: 100, height: 100, mode: "crop", gravity: "left" }, { image: halves }),
    );
    expect(near(left.pixel(90, 50), RED)).toBe(true); // the left square is kept: all red
    const right = await out(
      await run(
        "image-resize",
        { width: 100, height: 100, mode: "crop", gravity: "right", format: "jpeg" },
        { image: halves },
      ),
    );
    expect(right.meta.format).toBe("jpeg");
    expect(right.contentType).toBe("image/jpeg");
    expect(near(right.pixel(10, 50), BLUE, 30)).toBe(true);
  });

  it("rejects a call without width or height as the caller's error", async () => {
    await expect(run("image-resize", { mode: "fit" }, { image: halves })).rejects.toMatchObject({
      kind: "invalid_input",
      retryable: false,
    });
  });
});

describe("image-crop", () => {
  it("cuts a pixel box, and the largest region of an aspect ratio placed by gravity", async () => {
    const box = await out(await run("image-crop", { left: 250, top: 50, width: 100, height: 60 }, { image: halves }));
    expect([box.meta.width, box.meta.height]).toEqual([100, 60]);
    expect(near(box.pixel(0, 0), BLUE) && near(box.pixel(99, 59), BLUE)).toBe(true);
    const square = await out(await run("image-crop", { aspect_ratio: "1:1", gravity: "left" }, { image: halves }));
    expect([square.meta.width, square.meta.height]).toEqual([200, 200]);
    expect(near(square.pixel(199, 100), RED)).toBe(true);
    const wide = await out(await run("image-crop", { aspect_ratio: "4:1" }, { image: halves }));
    expect([wide.meta.width, wide.meta.height]).toEqual([400, 100]);
  });

  it("refuses a box outside the image, and a box together with an aspect ratio", async () => {
    await expect(
      run("image-crop", { left: 350, top: 0, width: 100, height: 10 }, { image: halves }),
    ).rejects.toMatchObject({ kind: "invalid_input", message: expect.stringMatching(/outside the 400x200 image/) });
    await expect(
      run("image-crop", { left: 0, top: 0, width: 10, height: 10, aspect_ratio: "1:1" }, { image: halves }),
    ).rejects.toMatchObject({ kind: "invalid_input" });
  });
});

describe("image-composite", () => {
  it("puts a cutout on a solid colour", async () => {
    const r = await out(await run("image-composite", { background: "#ffffff" }, { image: cutout }));
    expect([r.meta.width, r.meta.height]).toEqual([100, 100]);
    expect(r.pixel(5, 5)).toEqual(WHITE);
    expect(r.pixel(50, 50)).toEqual(GREEN);
  });

  it("puts it on a linear gradient of a given canvas size, centred", async () => {
    const r = await out(
      await run(
        "image-composite",
        { background: "linear-gradient(90deg, #000000, #ffffff)", width: 300, height: 100 },
        { image: cutout },
      ),
    );
    expect([r.meta.width, r.meta.height]).toEqual([300, 100]);
    const [l] = r.pixel(3, 50);
    const [m] = r.pixel(110, 10);
    const [h] = r.pixel(296, 50);
    expect(l).toBeLessThan(30);
    expect(h).toBeGreaterThan(225);
    expect(m!).toBeGreaterThan(l!);
    expect(m!).toBeLessThan(h!);
    expect(r.pixel(150, 50)).toEqual(GREEN);
  });

  it("puts it on another image, scaled and positioned; the background may arrive as the `background` file", async () => {
    const bg = await png(sharp({ create: { width: 300, height: 150, channels: 3, background: "#0000ff" } }));
    for (const field of ["background_image", "background"]) {
      const r = await out(
        await run("image-composite", { position: "top-left", scale: 0.5 }, { image: cutout, [field]: bg }),
      );
      expect([r.meta.width, r.meta.height]).toEqual([300, 150]);
      // 100x100 fitted into 300x150 is 150x150, half of it 75x75 at the top left: the green square spans 19..56
      expect(near(r.pixel(37, 37), GREEN)).toBe(true);
      expect(near(r.pixel(70, 70), BLUE)).toBe(true);
      expect(near(r.pixel(200, 100), BLUE)).toBe(true);
    }
  });

  it("crops a foreground that runs over the canvas edge at x/y", async () => {
    const r = await out(
      await run("image-composite", { background: "#ffffff", width: 120, height: 100, x: 60, y: 0 }, { image: cutout }),
    );
    expect([r.meta.width, r.meta.height]).toEqual([120, 100]);
    expect(r.pixel(100, 50)).toEqual(GREEN);
    expect(r.pixel(30, 50)).toEqual(WHITE);
  });
});

describe("image-convert", () => {
  it("converts to jpeg (transparency flattened on the background colour), webp and avif", async () => {
    const jpeg = await out(
      await run("image-convert", { format: "jpeg", quality: 90, background: "#ff0000" }, { image: cutout }),
    );
    expect(jpeg.meta.format).toBe("jpeg");
    expect(near(jpeg.pixel(3, 3), RED, 20)).toBe(true);
    expect(near(jpeg.pixel(50, 50), GREEN, 20)).toBe(true);
    const webp = await out(await run("image-convert", { format: "webp", lossless: true }, { image: cutout }));
    expect(webp.meta.format).toBe("webp");
    expect(webp.pixel(3, 3)[3]).toBe(0); // webp keeps the transparency
    const avif = await run("image-convert", { format: "avif", quality: 50 }, { image: halves });
    expect(avif.outputs[0]!.contentType).toBe("image/avif");
    expect((await sharp(avif.outputs[0]!.bytes).metadata()).compression).toBe("av1");
  });

  it("a lower quality gives a smaller file", async () => {
    const photo = new Uint8Array(readFileSync(new URL("../../examples/photo.jpg", import.meta.url)));
    const hi = await run("image-convert", { format: "webp", quality: 95 }, { image: photo });
    const lo = await run("image-convert", { format: "webp", quality: 20 }, { image: photo });
    expect(lo.outputs[0]!.bytes.byteLength).toBeLessThan(hi.outputs[0]!.bytes.byteLength);
  });
});

describe("text-overlay", () => {
  it("draws the text in the region its position names and nowhere else", async () => {
    const grey = await png(sharp({ create: { width: 400, height: 200, channels: 3, background: "#404040" } }));
    const r = await out(
      await run(
        "text-overlay",
        { text: "WATERMARK", position: "bottom-right", font_size: 40, color: "#ffffff", opacity: 1 },
        { image: grey },
      ),
    );
    expect([r.meta.width, r.meta.height]).toEqual([400, 200]);
    // the bounding box of every changed pixel: 40 px text, inside the 16 px margin of the bottom-right corner
    const box = { minX: 400, minY: 200, maxX: -1, maxY: -1, count: 0 };
    for (let y = 0; y < 200; y++) {
      for (let x = 0; x < 400; x++) {
        if (r.pixel(x, y)[0] === 0x40) continue;
        box.count++;
        box.minX = Math.min(box.minX, x);
        box.minY = Math.min(box.minY, y);
        box.maxX = Math.max(box.maxX, x);
        box.maxY = Math.max(box.maxY, y);
      }
    }
    expect(box.count).toBeGreaterThan(500);
    expect(box.maxX).toBeLessThan(400 - 16 + 2);
    expect(box.maxX).toBeGreaterThan(400 - 16 - 10);
    expect(box.maxY).toBeLessThan(200 - 16 + 2);
    expect(box.minY).toBeGreaterThan(200 - 16 - 40 - 4);
    expect(box.minX).toBeGreaterThan(100);
    // at half opacity the same glyph pixels are lighter than the background and darker than full white
    const half = await out(
      await run(
        "text-overlay",
        { text: "WATERMARK", position: "bottom-right", font_size: 40, opacity: 0.5 },
        { image: grey },
      ),
    );
    const brightest = Math.max(
      ...Array.from({ length: 300 * 70 }, (_, i) => half.pixel(100 + (i % 300), 130 + Math.floor(i / 300))[0]!),
    );
    expect(brightest).toBeGreaterThan(0x40);
    expect(brightest).toBeLessThan(0xd0);
  });

  it("escapes the text: markup is drawn, not interpreted", async () => {
    const grey = await png(sharp({ create: { width: 200, height: 100, channels: 3, background: "#404040" } }));
    const r = await run("text-overlay", { text: "<b>&\"'</b>", position: "center" }, { image: grey });
    expect((await sharp(r.outputs[0]!.bytes).metadata()).width).toBe(200);
  });
});

describe("ESRGAN upscalers (@upscalerjs, TensorFlow.js)", () => {
  const sizes = { w: 72, h: 48 };
  let small: Uint8Array;
  beforeAll(async () => {
    const photo = readFileSync(new URL("../../examples/photo.jpg", import.meta.url));
    small = await png(sharp(photo).resize(sizes.w, sizes.h, { fit: "fill" }));
  });

  /** Mean absolute difference per channel value between the input and the upscale shrunk back to its size. */
  async function roundTrip(upscaled: Uint8Array): Promise<number> {
    const back = await sharp(upscaled).resize(sizes.w, sizes.h, { fit: "fill" }).removeAlpha().raw().toBuffer();
    const orig = await sharp(small).removeAlpha().raw().toBuffer();
    let sum = 0;
    for (let i = 0; i < orig.length; i++) sum += Math.abs(orig[i]! - back[i]!);
    return sum / orig.length;
  }

  for (const [model, scale] of [
    ["esrgan-slim", 2],
    ["esrgan-slim", 3],
    ["esrgan-slim", 4],
    ["esrgan-medium", 2],
  ] as const) {
    it(`${model} ${scale}x: ${scale}x the dimensions, and shrunk back it matches the input`, async () => {
      const r = await run(model, { scale }, { image: small });
      const meta = await sharp(r.outputs[0]!.bytes).metadata();
      expect([meta.width, meta.height]).toEqual([sizes.w * scale, sizes.h * scale]);
      expect(await roundTrip(r.outputs[0]!.bytes)).toBeLessThan(6);
      // and it is not a blank or shifted image: a flat grey has a large difference
      const grey = await png(
        sharp({ create: { width: sizes.w * scale, height: sizes.h * scale, channels: 3, background: "#808080" } }),
      );
      expect(await roundTrip(grey)).toBeGreaterThan(20);
    });
  }

  it("refuses an input over its pixel limit as the caller's error", async () => {
    const big = await png(sharp({ create: { width: 1100, height: 1000, channels: 3, background: "#808080" } }));
    await expect(run("esrgan-slim", { scale: 2 }, { image: big })).rejects.toMatchObject({ kind: "invalid_input" });
  });
});

describe("face detection (@vladmandic/face-api: SSD MobileNetV1 + 68 landmarks)", () => {
  // a group photo that ships with the package (not copied into this repository)
  const sample = () =>
    new Uint8Array(readFileSync(new URL("../../node_modules/@vladmandic/face-api/demo/sample1.jpg", import.meta.url)));
  type Faces = {
    width: number;
    height: number;
    faces: { score: number; box: { x: number; y: number; width: number; height: number }; landmarks?: number[][] }[];
  };

  it("finds each face of a group photo with a box, a score and 68 landmarks inside the box", async () => {
    const r = (await run("face-detection", {}, { image: sample() })).json as Faces;
    expect([r.width, r.height]).toEqual([1920, 1280]);
    expect(r.faces).toHaveLength(3);
    for (const f of r.faces) {
      expect(f.score).toBeGreaterThan(0.9);
      expect(f.box.width).toBeGreaterThan(100);
      expect(f.landmarks).toHaveLength(68);
      const pad = f.box.width * 0.25;
      for (const [x, y] of f.landmarks!) {
        expect(x!).toBeGreaterThan(f.box.x - pad);
        expect(x!).toBeLessThan(f.box.x + f.box.width + pad);
        expect(y!).toBeGreaterThan(f.box.y - pad);
        expect(y!).toBeLessThan(f.box.y + f.box.height + pad);
      }
    }
  });

  it("finds the same face, shifted, in a crop around it; and none in a photo without people", async () => {
    const full = (await run("face-detection", { landmarks: false }, { image: sample() })).json as Faces;
    const face = full.faces[0]!.box;
    const left = Math.max(0, Math.round(face.x - 150));
    const top = Math.max(0, Math.round(face.y - 100));
    const crop = await png(sharp(sample()).extract({ left, top, width: 500, height: 500 }));
    const part = (await run("face-detection", { landmarks: false }, { image: crop })).json as Faces;
    const inCrop = part.faces.filter((f) => f.score > 0.9);
    expect(inCrop).toHaveLength(1);
    expect(inCrop[0]!.landmarks).toBeUndefined();
    // the same face: its box, moved back into the full image, overlaps the first one (the full image is detected
    // at 1024 px, the crop at its own size, so the boxes agree within the detector's precision, not exactly)
    const moved = { ...inCrop[0]!.box, x: inCrop[0]!.box.x + left, y: inCrop[0]!.box.y + top };
    const ix = Math.max(0, Math.min(face.x + face.width, moved.x + moved.width) - Math.max(face.x, moved.x));
    const iy = Math.max(0, Math.min(face.y + face.height, moved.y + moved.height) - Math.max(face.y, moved.y));
    const union = face.width * face.height + moved.width * moved.height - ix * iy;
    expect((ix * iy) / union).toBeGreaterThan(0.6);
    const scene = new Uint8Array(readFileSync(new URL("../../examples/photo.jpg", import.meta.url)));
    expect(((await run("face-detection", {}, { image: scene })).json as Faces).faces).toEqual([]);
  });
});

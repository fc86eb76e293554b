import sharp, { type Sharp } from "sharp";
import { ImageCompositeInput } from "../../../../../schemas/cpu-models.ts";
import { decodeSized, encode, parseColour, parseParams, placeBox, requireFile } from "./common.ts";
import { utility } from "./tools.ts";

/** The canvas under the foreground: another image (covering the canvas), a linear gradient, or a solid colour. */
async function backgroundLayer(spec: string, image: Uint8Array | undefined, W: number, H: number): Promise<Sharp> {
  if (image) {
    const { img } = await decodeSized(image, "background_image");
    return sharp(await img.resize(W, H, { fit: "cover" }).png().toBuffer());
  }
  if (spec.startsWith("linear-gradient")) return sharp(Buffer.from(gradientSvg(spec, W, H)));
  return sharp({ create: { width: W, height: H, channels: 4, background: parseColour(spec) } });
}

/** `linear-gradient(<angle>deg, #c1, #c2, ...)` as an SVG of the canvas size, stops evenly spaced. */
export function gradientSvg(spec: string, W: number, H: number): string {
  const args = spec.slice(spec.indexOf("(") + 1, spec.lastIndexOf(")"));
  const [angleText, ...colours] = args.split(",").map((s) => s.trim());
  const rad = (parseFloat(angleText!) * Math.PI) / 180;
  // CSS angles: 0deg points up, 90deg right; the gradient line runs through the centre in that direction.
  const dx = Math.sin(rad) / 2;
  const dy = -Math.cos(rad) / 2;
  const stops = colours.map((c, i) => {
    const { r, g, b, alpha } = parseColour(c);
    const at = colours.length === 1 ? 0 : i / (colours.length - 1);
    return `<stop offset="${at}" stop-color="rgb(${r},${g},${b})" stop-opacity="${alpha}"/>`;
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">` +
    `<defs><linearGradient id="g" x1="${0.5 - dx}" y1="${0.5 - dy}" x2="${0.5 + dx}" y2="${0.5 + dy}">` +
    `${stops.join("")}</linearGradient></defs><rect width="${W}" height="${H}" fill="url(#g)"/></svg>`
  );
}

/**
 * A cutout over a colour, a gradient or an image. The foreground is scaled relative to the largest size that fits
 * the canvas, placed by gravity or at x/y, and cropped where it runs over the canvas edges.
 */
export const imageComposite = utility("image-composite", async (params, files) => {
  // a workflow may hand `background` over as an image file rather than a colour
  const { background: backgroundFile, ...rest } = files;
  const p = parseParams(ImageCompositeInput, params, rest);
  const fg = await decodeSized(requireFile(files).bytes);
  const bgFile = files.background_image ?? backgroundFile;
  const bgSize = bgFile ? await decodeSized(bgFile.bytes, "background_image") : null;
  const W = p.width ?? bgSize?.width ?? fg.width;
  const H = p.height ?? bgSize?.height ?? fg.height;
  const f = Math.min(W / fg.width, H / fg.height) * p.scale;
  const w = Math.max(1, Math.round(fg.width * f));
  const h = Math.max(1, Math.round(fg.height * f));
  const placed = placeBox(p.position, W, H, w, h);
  const left = p.x ?? placed.left;
  const top = p.y ?? placed.top;
  // only the part of the foreground that lies on the canvas is drawn
  const visible = { left: Math.max(0, -left), top: Math.max(0, -top) };
  const vw = Math.min(w - visible.left, W - Math.max(0, left));
  const vh = Math.min(h - visible.top, H - Math.max(0, top));
  const bg = await backgroundLayer(p.background, bgFile?.bytes, W, H);
  const layers = [];
  if (vw > 0 && vh > 0) {
    const scaled = fg.img.ensureAlpha().resize(w, h, { fit: "fill" });
    const whole = sharp(await scaled.png().toBuffer());
    const part = await whole
      .extract({ ...visible, width: vw, height: vh })
      .png()
      .toBuffer();
    layers.push({ input: part, left: Math.max(0, left), top: Math.max(0, top) });
  }
  const out = sharp(await bg.composite(layers).png().toBuffer());
  return encode(out, p.format, p.quality);
});

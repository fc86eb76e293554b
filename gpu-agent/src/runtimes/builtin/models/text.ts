import { TextOverlayInput } from "../../../../../schemas/cpu-models.ts";
import { decodeSized, encode, parseColour, parseParams, placeBox, requireFile } from "./common.ts";
import { utility } from "./tools.ts";

/** Fonts that ship with the host (DejaVu on Debian/Ubuntu), with the generic family fontconfig falls back to. */
const FONTS = { sans: "DejaVu Sans, sans-serif", serif: "DejaVu Serif, serif", mono: "DejaVu Sans Mono, monospace" };
// DejaVu's ascent and descent as fractions of the font size: where the baseline goes for a top or bottom anchor
const ASCENT = 0.93;
const DESCENT = 0.24;

const xml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Watermark text drawn through sharp's SVG input (librsvg, fonts from fontconfig) and composited over the image. */
export const textOverlay = utility("text-overlay", async (params, files) => {
  const p = parseParams(TextOverlayInput, params, files);
  const { img, width: W, height: H } = await decodeSized(requireFile(files).bytes);
  const size = p.font_size;
  const at = placeBox(p.position, W, H, 0, 0, p.margin);
  const anchor = at.horizontal === "left" ? "start" : at.horizontal === "right" ? "end" : "middle";
  const x = at.horizontal === "left" ? p.margin : at.horizontal === "right" ? W - p.margin : W / 2;
  const y =
    at.vertical === "top"
      ? p.margin + ASCENT * size
      : at.vertical === "bottom"
        ? H - p.margin - DESCENT * size
        : H / 2 + ((ASCENT - DESCENT) / 2) * size;
  const { r, g, b, alpha } = parseColour(p.color);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">` +
    `<text x="${x}" y="${y}" font-family="${FONTS[p.font]}" font-size="${size}" text-anchor="${anchor}" ` +
    `fill="rgb(${r},${g},${b})" fill-opacity="${p.opacity * alpha}">${xml(p.text)}</text></svg>`;
  img.composite([{ input: Buffer.from(svg), left: 0, top: 0 }]);
  return encode(img, p.format, p.quality);
});

import { describe, expect, it } from "vitest";
import { resolveImage, sniffImageType } from "../../src/services/inputs.ts";
import { hostRefusal } from "../../src/services/outbound.ts";
import { Config } from "../../src/env.ts";
import { ApiError } from "../../src/errors.ts";
import { PNG_1x1 } from "./helpers.ts";

const prod = Config.parse({ ENVIRONMENT: "production", PUBLIC_BASE_URL: "https://api.example.com" });

describe("remote image inputs (SSRF guard)", () => {
  it("classifies private, loopback and link-local hosts", () => {
    for (const h of [
      "localhost",
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "[::1]",
      "fd00::1",
      "100.64.0.1",
      "0.0.0.0",
      "2130706433",
      "metadata.internal",
      "[::ffff:127.0.0.1]",
    ]) {
      expect(hostRefusal(h), h).not.toBeNull();
    }
    for (const h of ["example.com", "8.8.8.8", "172.32.0.1", "cdn.images.example.com"])
      expect(hostRefusal(h), h).toBeNull();
  });

  it("refuses loopback and plain-http URLs in production before fetching", async () => {
    for (const url of [
      "https://127.0.0.1/x.png",
      "https://169.254.169.254/latest/meta-data",
      "http://example.com/x.png",
    ]) {
      await expect(resolveImage(url, "image", prod)).rejects.toSatisfy(
        (e) => e instanceof ApiError && e.code === "invalid_input",
      );
    }
  });

  it("decodes base64 and data URLs and sniffs the type", async () => {
    const a = await resolveImage(PNG_1x1, "image", prod);
    const b = await resolveImage(`data:image/png;base64,${PNG_1x1}`, "image", prod);
    expect(a.contentType).toBe("image/png");
    expect(b.bytes).toEqual(a.bytes);
    expect(sniffImageType(new Uint8Array([0xff, 0xd8, 0xff]))).toBe("image/jpeg");
  });

  it("rejects strings that are neither base64 nor URLs", async () => {
    await expect(resolveImage("not base64 !!", "image", prod)).rejects.toSatisfy(
      (e) => e instanceof ApiError && e.code === "invalid_input",
    );
  });
});

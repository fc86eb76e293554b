import { z } from "zod";

/** An image input: base64, a data URL, or an https URL that the edge fetches itself (`format: "image"` marks it). */
export const imageField = (description: string) => z.string().min(1).meta({ format: "image", description });

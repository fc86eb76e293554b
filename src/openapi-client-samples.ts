/** TypeScript samples using clients/typescript (`@edge-inference/client`), keyed as src/openapi-examples.ts is. */
const setup = `import { EdgeInference } from "@edge-inference/client";\n\nconst client = new EdgeInference({ baseUrl: "https://api.example.com", apiKey: process.env.API_KEY! });\n`;

export const CLIENT_SAMPLES: Record<string, string> = {};
void setup;

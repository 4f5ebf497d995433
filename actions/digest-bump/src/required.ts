// The inputs a run cannot start without, each with what it is: main.ts checks them before zod, the input schema
// and the run's code load (a step missing one fails at once); inputs.ts builds the schema's check from the same words.
export const required = {
  "image-ref": "the image with its digest, e.g. the build-scan output",
  "config-repo": "owner/name or a path to a checkout",
} as const;

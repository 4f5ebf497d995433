// The inputs a run cannot start without, each with what it is: main.ts checks them before zod, the input schema
// and the run's code load (a step missing one fails at once); inputs.ts builds the schema's check from the same words.
export const required = {
  "prometheus-url": "the Prometheus query endpoint or file:// replay",
  namespace: "the service's namespace",
  service: "the Flagger target name",
} as const;

export { type CliIo, main } from "./main.ts";
export { findTool } from "./tools.ts";

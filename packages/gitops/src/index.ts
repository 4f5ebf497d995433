export { normaliseRepository, type ParsedImage, parseImage } from "./image.ts";
export { applyChanges, diskReader } from "./local.ts";
export { locateImage } from "./locate.ts";
export {
  type Environment,
  type PromotionInput,
  type PromotionVerdict,
  planBump,
  promotionCheck,
} from "./plan.ts";
export type { BumpPlan, BumpRequest, FileChange, ImageReference, RepoReader } from "./types.ts";

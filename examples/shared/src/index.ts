export { checkFlags, choiceFlag, devices, listFlag, numberFlag, parseArgs } from './args.js';
export type { CommonArgs, Device } from './args.js';
export { FIXTURE_NOTE, runCli } from './cli.js';
export {
  checkOutput,
  outputPath,
  repoFixture,
  repoRoot,
  resolveInput,
  resolveModel,
  userCwd,
} from './paths.js';
export { captionedPicture, enlargedForDisplay, labelCaptions } from './picture.js';

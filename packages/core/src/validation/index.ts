export { describeValue } from './describe-value.js';
export { checkOptions, closestName, optionNames, pickOptions } from './option-names.js';
export type { OptionNames } from './option-names.js';
export { checkFiniteNumber, checkFlag, checkInteger, checkThreshold } from './numbers.js';
export type { NumberRange } from './numbers.js';
export { optionsFromKwargs } from './kwargs.js';

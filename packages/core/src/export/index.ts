export { exportModel } from './export-model.js';
export type { ExportModelOptions, ExportableModelClass, ExportedModel } from './export-model.js';
export { chooseModelClass, importModelPackage } from './model-package.js';
export type { ModelClassRegistry, ModelPackage } from './model-package.js';

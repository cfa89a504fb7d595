import { ConfigError } from '../../errors.js';
import type { Value } from '../graph.js';
import type { Module } from '../module.js';

/**
 * The `hidden_act` names of transformers' ACT2FN that graphs can be built for, each as ONNX Runtime computes it
 * fastest on CPU: the GELUs and SiLU as their com.microsoft kernels (what ONNX Runtime's own fusions turn torch's
 * exported formulas into; ONNX Runtime then folds a preceding bias Add into BiasGelu / FastGelu), the rest as
 * single ONNX operators.
 */
const ACTIVATIONS: Readonly<Record<string, (m: Module, x: Value) => Value>> = {
  // 0.5·x·(1 + erf(x/√2)), exactly (transformers' GELUActivation, torch's default approximate='none').
  gelu: (m, x) => m.op('Gelu', [x], {}, { domain: 'com.microsoft' }),
  gelu_python: (m, x) => m.op('Gelu', [x], {}, { domain: 'com.microsoft' }),
  // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): NewGELUActivation, PytorchGELUTanh, FastGELUActivation (the same
  // formula factored differently) and GELU "accurate" all compute this function.
  gelu_new: (m, x) => m.op('FastGelu', [x], {}, { domain: 'com.microsoft' }),
  gelu_pytorch_tanh: (m, x) => m.op('FastGelu', [x], {}, { domain: 'com.microsoft' }),
  gelu_fast: (m, x) => m.op('FastGelu', [x], {}, { domain: 'com.microsoft' }),
  gelu_accurate: (m, x) => m.op('FastGelu', [x], {}, { domain: 'com.microsoft' }),
  // x·sigmoid(1.702·x) (CLIP's QuickGELUActivation).
  quick_gelu: (m, x) => m.op('QuickGelu', [x], { alpha: 1.702 }, { domain: 'com.microsoft' }),
  // x·sigmoid(x): QuickGelu with alpha 1 is that function.
  silu: (m, x) => m.op('QuickGelu', [x], { alpha: 1.0 }, { domain: 'com.microsoft' }),
  swish: (m, x) => m.op('QuickGelu', [x], { alpha: 1.0 }, { domain: 'com.microsoft' }),
  relu: (m, x) => m.op('Relu', [x]),
  // x·relu6(x + 3)/6, torch's Hardswish, as ONNX defines HardSwish (opset 14).
  hardswish: (m, x) => m.op('HardSwish', [x]),
  tanh: (m, x) => m.op('Tanh', [x]),
  sigmoid: (m, x) => m.op('Sigmoid', [x]),
  linear: (_m, x) => x,
};

/** The activation names `activation()` accepts. */
export const ACTIVATION_NAMES: readonly string[] = Object.keys(ACTIVATIONS);

/**
 * transformers' `ACT2FN[name]` applied to `x`, as a node of module `m` (the module that applies it, e.g.
 * `vit.encoder.layer.0.intermediate`). An unknown name is a `ConfigError` listing the known ones.
 *
 * @example
 * ```ts
 * const hidden = activation(intermediate, linear(intermediate.child('dense'), x, sizes), config.hidden_act);
 * ```
 */
export function activation(m: Module, x: Value, name: string): Value {
  const apply = ACTIVATIONS[name];
  if (!apply) {
    throw new ConfigError(
      `hidden_act ${JSON.stringify(name)} cannot be built into a graph (expected one of ${ACTIVATION_NAMES.join(', ')})`,
    );
  }
  return apply(m, x);
}

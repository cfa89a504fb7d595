import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { GraphBuilder, float, floats, int, ints } from './graph.js';

describe('GraphBuilder', () => {
  it('types attributes: integers as INT(S), float-named ones as FLOAT(S), wrappers as told', () => {
    const g = new GraphBuilder('attrs');
    const x = g.input('x', 'float32', [2]);
    g.node(
      '',
      'Op',
      [x],
      {
        axis: -1,
        epsilon: 1e-12,
        alpha: 1,
        perm: [0, 2, 1],
        scale: [0.5, 2],
        mode: 'CRD',
        names: ['a', 'b'],
        one: float(1),
        many: floats([1, 2]),
        big: int(3),
        list: ints([4]),
      },
      'n',
    );
    g.output(g.node('', 'Identity', [x], {}, 'out')[0]!, 'y', 'float32', [2]);
    expect(g.build().nodes[0]!.attributes).toEqual([
      { name: 'axis', type: 'int', value: -1 },
      { name: 'epsilon', type: 'float', value: 1e-12 },
      { name: 'alpha', type: 'float', value: 1 },
      { name: 'perm', type: 'ints', value: [0, 2, 1] },
      { name: 'scale', type: 'floats', value: [0.5, 2] },
      { name: 'mode', type: 'string', value: 'CRD' },
      { name: 'names', type: 'strings', value: ['a', 'b'] },
      { name: 'one', type: 'float', value: 1 },
      { name: 'many', type: 'floats', value: [1, 2] },
      { name: 'big', type: 'int', value: 3 },
      { name: 'list', type: 'ints', value: [4] },
    ]);
  });

  it('refuses a fractional number for an attribute that is not float-typed', () => {
    const g = new GraphBuilder('attrs');
    const x = g.input('x', 'float32', [2]);
    expect(() => g.node('', 'Op', [x], { ratio: 0.5 }, 'n')).toThrowError(
      new InvalidArgumentError(
        "node 'n': attribute 'ratio' = 0.5 is not an integer (wrap it in float() for a FLOAT attribute)",
      ),
    );
  });

  it('keeps names unique and refuses values of another graph and unknown domains', () => {
    const g = new GraphBuilder('names');
    const x = g.input('x', 'float32', [2]);
    g.node('', 'Relu', [x], {}, 'a/Relu');
    expect(() => g.node('', 'Relu', [x], {}, 'a/Relu')).toThrowError("node name 'a/Relu' is already used");
    expect(g.uniqueNodeName('a/Relu')).toBe('a/Relu_1');
    expect(() => g.input('x', 'float32', [2])).toThrowError("value name 'x' is already used");
    const other = new GraphBuilder('other').input('z', 'float32', [1]);
    expect(() => g.node('', 'Relu', [other], {}, 'b')).toThrowError(
      "node 'b': input 'z' is not from this graph",
    );
    expect(() => g.node('org.example', 'Relu', [x], {}, 'c')).toThrowError(
      /domain 'org.example' is not one of '', 'com.microsoft'/,
    );
  });

  it('renames a node output into a graph output, and routes inputs and repeated outputs through Identity', () => {
    const g = new GraphBuilder('outputs');
    const x = g.input('x', 'float32', ['batch', 2]);
    const [y] = g.node('', 'Relu', [x], {}, 'relu');
    g.output(y!, 'y', 'float32', ['batch', 2]);
    g.output(y!, 'y_again', 'float32', ['batch', 2]);
    g.output(x, 'x_out', 'float32', ['batch', 2]);
    const graph = g.build();
    expect(
      graph.nodes.map((n) => [n.opType, n.inputs.map((i) => i?.name), n.outputs.map((o) => o.name)]),
    ).toEqual([
      ['Relu', ['x'], ['y']],
      ['Identity', ['y'], ['y_again']],
      ['Identity', ['x'], ['x_out']],
    ]);
    expect(graph.outputs.map((o) => [o.value.name, o.dims])).toEqual([
      ['y', ['batch', 2]],
      ['y_again', ['batch', 2]],
      ['x_out', ['batch', 2]],
    ]);
  });

  it('writes equal constants once and imports com.microsoft only when a node uses it', () => {
    const g = new GraphBuilder('constants');
    const x = g.input('x', 'float32', [2]);
    const a = g.constant('shape_a', { dtype: 'int64', dims: [2], data: BigInt64Array.of(0n, -1n) });
    const b = g.constant('shape_b', { dtype: 'int64', dims: [2], data: BigInt64Array.of(0n, -1n) });
    const c = g.constant('shape_c', { dtype: 'int64', dims: [2], data: BigInt64Array.of(1n, -1n) });
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    g.output(g.node('', 'Relu', [x], {}, 'relu')[0]!, 'y', 'float32', [2]);
    expect([...g.build().opsetImports]).toEqual([['', 17]]);
    g.node('com.microsoft', 'Gelu', [x], {}, 'gelu');
    expect([...g.build().opsetImports]).toEqual([
      ['', 17],
      ['com.microsoft', 1],
    ]);
    expect(g.build().initializers.map((i) => i.value.name)).toEqual(['shape_a', 'shape_c']);
  });

  it('refuses to build a graph without outputs', () => {
    const g = new GraphBuilder('empty');
    g.input('x', 'float32', [1]);
    expect(() => g.build()).toThrowError("graph 'empty' has no output");
  });
});

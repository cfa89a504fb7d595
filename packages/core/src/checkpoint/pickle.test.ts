import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../errors.js';
import { PickleWriter } from '../testing/torch-checkpoint.js';
import { type PickleHooks, isPickleTuple, unpickle } from './pickle.js';

// Hooks that refuse everything the stack machine hands out, so a test sees exactly what plain data does.
const refuse: PickleHooks = {
  global: (module, name) => {
    throw new CheckpointError(`global ${module}.${name}`);
  },
  reduce: () => {
    throw new CheckpointError('reduce');
  },
  newObject: () => {
    throw new CheckpointError('newobj');
  },
  build: () => {
    throw new CheckpointError('build');
  },
  persistentLoad: (pid) => ({ pid }),
};

describe('unpickle', () => {
  it('reads the plain data torch.save pickles: ints of every width, floats, strings, tuples, lists, dicts', () => {
    const bytes = new PickleWriter()
      .proto()
      .emptyDict()
      .mark()
      .str('ints')
      .mark()
      .int(7)
      .int(300)
      .int(-2)
      .int(70000)
      .int(2n ** 40n)
      .int(-(2n ** 40n))
      .int(2n ** 70n)
      .tuple()
      .str('pair')
      .int(1)
      .str('é')
      .tuple(2)
      .str('list')
      .emptyList()
      .int(5)
      .append()
      .str('flags')
      .none()
      .bool(true)
      .bool(false)
      .tuple(3)
      .setItems()
      .stop()
      .bytes();
    const value = unpickle(bytes, 'test.pkl', refuse) as Map<string, unknown>;
    expect(value).toBeInstanceOf(Map);
    expect(value.get('ints')).toEqual([7, 300, -2, 70000, 2 ** 40, -(2 ** 40), 2n ** 70n]);
    expect(isPickleTuple(value.get('ints'))).toBe(true);
    expect(value.get('pair')).toEqual([1, 'é']);
    expect(value.get('list')).toEqual([5]);
    expect(isPickleTuple(value.get('list'))).toBe(false);
    expect(value.get('flags')).toEqual([null, true, false]);
  });

  it('reads BINFLOAT big-endian and shares memoized objects', () => {
    const float = Buffer.alloc(9);
    float[0] = 0x47;
    float.writeDoubleBE(-1.5, 1);
    const bytes = new PickleWriter()
      .proto()
      .emptyList()
      .put(0)
      .raw(...float)
      .append()
      .get(0)
      .tuple(2)
      .stop()
      .bytes();
    const [list, again] = unpickle(bytes, 'test.pkl', refuse) as [number[], number[]];
    expect(list).toEqual([-1.5]);
    expect(again).toBe(list);
  });

  it('hands GLOBAL names to the hooks without importing anything', () => {
    const bytes = new PickleWriter().proto().global('posix', 'system').stop().bytes();
    expect(() => unpickle(bytes, 'test.pkl', refuse)).toThrow('global posix.system');
  });

  it('refuses opcodes torch.save does not write, naming the opcode and its position', () => {
    // STACK_GLOBAL (protocol 4) after PROTO (2 bytes) and two BINUNICODE strings (7 and 11 bytes).
    const bytes = new PickleWriter().proto(4).str('os').str('system').raw(0x93).stop().bytes();
    expect(() => unpickle(bytes, 'x.bin: archive/data.pkl', refuse)).toThrow(CheckpointError);
    expect(() => unpickle(bytes, 'x.bin: archive/data.pkl', refuse)).toThrow(
      /^x\.bin: archive\/data\.pkl: opcode 0x93 \(STACK_GLOBAL\) is not one that torch\.save writes.*\(at byte 20 of the pickle\)$/,
    );
    const inst = new PickleWriter().proto().raw(0x69).stop().bytes();
    expect(() => unpickle(inst, 'p', refuse)).toThrow(/opcode 0x69 \(INST\)/);
  });

  it('names a truncated or corrupt pickle instead of crashing', () => {
    const full = new PickleWriter().proto().str('abcdef').stop().bytes();
    expect(() => unpickle(full.subarray(0, 6), 'p', refuse)).toThrow(
      /ends inside an opcode: it is truncated/,
    );
    expect(() => unpickle(new PickleWriter().proto().tuple(1).stop().bytes(), 'p', refuse)).toThrow(
      /pops from an empty stack/,
    );
    expect(() => unpickle(new PickleWriter().proto().get(3).stop().bytes(), 'p', refuse)).toThrow(
      /memo entry 3, which was never stored/,
    );
    expect(() => unpickle(new PickleWriter().proto().int(1).append().stop().bytes(), 'p', refuse)).toThrow(
      /reads from an empty stack/,
    );
    expect(() =>
      unpickle(new PickleWriter().proto().int(1).tuple(1).int(2).append().stop().bytes(), 'p', refuse),
    ).toThrow(/APPEND to a tuple of 1, expected a list/);
    expect(() => unpickle(new PickleWriter().proto().mark().int(1).stop().bytes(), 'p', refuse)).toThrow(
      /stops inside an open MARK/,
    );
  });
});

import { CheckpointError } from '../errors.js';

/**
 * A restricted pickle reader: a stack machine over the opcodes `torch.save` writes (the same set torch's own
 * `weights_only` unpickler accepts), which never imports or calls anything. `GLOBAL`, `REDUCE`, `BUILD`,
 * `NEWOBJ` and `BINPERSID` are handed to the caller's `PickleHooks`, which decide what a name means (or refuse
 * it); everything else only builds plain data. Any other opcode (`INST`, `OBJ`, `STACK_GLOBAL`, `EXT*`, ...) is a
 * `CheckpointError` naming it and its byte position.
 *
 * Values: `None` -> null, bools, ints -> number (bigint beyond 2^53), floats -> number, str -> string, bytes ->
 * Uint8Array, tuple -> `PickleTuple` (a frozen array), list -> array, dict -> Map, set -> Set.
 */
export interface PickleHooks {
  /** `GLOBAL module name`: what the name stands for, or a thrown `CheckpointError` refusing it. */
  global(module: string, name: string): unknown;
  /** `REDUCE`: `callable(*args)` where `callable` came from `global`. */
  reduce(callable: unknown, args: PickleTuple): unknown;
  /** `NEWOBJ`: `cls.__new__(cls, *args)`. */
  newObject(cls: unknown, args: PickleTuple): unknown;
  /** `BUILD`: `target.__setstate__(state)`; returns the object that replaces `target` on the stack. */
  build(target: unknown, state: unknown): unknown;
  /** `BINPERSID`: the object a persistent id stands for (a storage, for torch). */
  persistentLoad(pid: unknown): unknown;
}

/** A Python tuple: frozen, so that `APPEND` (lists only) cannot touch it. */
export type PickleTuple = readonly unknown[];

export function isPickleTuple(value: unknown): value is PickleTuple {
  return Array.isArray(value) && Object.isFrozen(value);
}

/** Pickle opcodes by name (CPython's pickle.py), the ones torch.save writes and those named in errors. */
const OP = {
  MARK: 0x28,
  EMPTY_TUPLE: 0x29,
  STOP: 0x2e,
  POP: 0x30,
  POP_MARK: 0x31,
  DUP: 0x32,
  BINBYTES: 0x42,
  SHORT_BINBYTES: 0x43,
  FLOAT: 0x46,
  BINFLOAT: 0x47,
  INT: 0x49,
  BININT: 0x4a,
  BININT1: 0x4b,
  LONG: 0x4c,
  BININT2: 0x4d,
  NONE: 0x4e,
  PERSID: 0x50,
  BINPERSID: 0x51,
  REDUCE: 0x52,
  STRING: 0x53,
  BINSTRING: 0x54,
  SHORT_BINSTRING: 0x55,
  UNICODE: 0x56,
  BINUNICODE: 0x58,
  EMPTY_LIST: 0x5d,
  APPEND: 0x61,
  BUILD: 0x62,
  GLOBAL: 0x63,
  DICT: 0x64,
  APPENDS: 0x65,
  GET: 0x67,
  BINGET: 0x68,
  INST: 0x69,
  LONG_BINGET: 0x6a,
  LIST: 0x6c,
  OBJ: 0x6f,
  PUT: 0x70,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  SETITEM: 0x73,
  TUPLE: 0x74,
  SETITEMS: 0x75,
  EMPTY_DICT: 0x7d,
  PROTO: 0x80,
  NEWOBJ: 0x81,
  EXT1: 0x82,
  EXT2: 0x83,
  EXT4: 0x84,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  LONG4: 0x8b,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BINBYTES8: 0x8e,
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  NEWOBJ_EX: 0x92,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
  BYTEARRAY8: 0x96,
  NEXT_BUFFER: 0x97,
  READONLY_BUFFER: 0x98,
} as const;

const OPCODE_NAMES = new Map<number, string>(Object.entries(OP).map(([name, code]) => [code, name]));

function opcodeName(op: number): string {
  const name = OPCODE_NAMES.get(op);
  return `0x${op.toString(16).padStart(2, '0')}${name ? ` (${name})` : ''}`;
}

const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

/** Python's `decode_long`: little-endian two's complement of any length. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  if (bytes[bytes.length - 1]! & 0x80) value -= 1n << BigInt(bytes.length * 8);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}

/**
 * Runs the pickle in `bytes` and returns its top object. `where` names the pickle in errors
 * (`pytorch_model.bin: archive/data.pkl`).
 *
 * @example
 * const stateDict = unpickle(bytes, 'model.bin: archive/data.pkl', torchHooks); // a Map of key -> tensor
 */
export function unpickle(bytes: Uint8Array, where: string, hooks: PickleHooks): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const fail = (message: string, at = pos): never => {
    throw new CheckpointError(`${where}: ${message} (at byte ${at} of the pickle)`);
  };
  const need = (count: number): void => {
    if (pos + count > bytes.length) fail('the pickle ends inside an opcode: it is truncated');
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const value = view.getUint16(pos, true);
    pos += 2;
    return value;
  };
  const u32 = (): number => {
    need(4);
    const value = view.getUint32(pos, true);
    pos += 4;
    return value;
  };
  const take = (count: number): Uint8Array => {
    need(count);
    const slice = bytes.subarray(pos, pos + count);
    pos += count;
    return slice;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('the pickle ends inside a GLOBAL name: it is truncated');
    const text = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('the pickle pops from an empty stack: it is corrupt');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('the pickle reads from an empty stack: it is corrupt');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const previous = marks.pop();
    if (!previous) fail('the pickle closes a MARK it never opened: it is corrupt');
    stack = previous!;
    return items;
  };
  const dictOnTop = (op: string): Map<unknown, unknown> => {
    const target = top();
    if (!(target instanceof Map)) fail(`${op} on a ${describe(target)}, expected a dict`);
    return target as Map<unknown, unknown>;
  };
  const memoGet = (index: number): unknown => {
    if (!memo.has(index)) fail(`the pickle reads memo entry ${index}, which was never stored: it is corrupt`);
    return memo.get(index);
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case OP.PROTO:
        u8();
        break;
      case OP.STOP: {
        if (marks.length > 0) fail('the pickle stops inside an open MARK: it is corrupt', at);
        return pop();
      }
      case OP.MARK:
        marks.push(stack);
        stack = [];
        break;
      case OP.NONE:
        stack.push(null);
        break;
      case OP.NEWTRUE:
        stack.push(true);
        break;
      case OP.NEWFALSE:
        stack.push(false);
        break;
      case OP.BININT:
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case OP.BININT1:
        stack.push(u8());
        break;
      case OP.BININT2:
        stack.push(u16());
        break;
      case OP.LONG1:
        stack.push(decodeLong(take(u8())));
        break;
      case OP.BINFLOAT: // big-endian, unlike everything else
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case OP.BINUNICODE:
        stack.push(utf8.decode(take(u32())));
        break;
      case OP.SHORT_BINSTRING: // a Python 2 str; torch reads these as text
        stack.push(latin1.decode(take(u8())));
        break;
      case OP.EMPTY_TUPLE:
        stack.push(Object.freeze([]));
        break;
      case OP.TUPLE: {
        // popMark swaps `stack`, so it must run before the push
        const items = Object.freeze(popMark());
        stack.push(items);
        break;
      }
      case OP.TUPLE1:
        stack.push(Object.freeze([pop()]));
        break;
      case OP.TUPLE2: {
        const b = pop();
        stack.push(Object.freeze([pop(), b]));
        break;
      }
      case OP.TUPLE3: {
        const c = pop();
        const b = pop();
        stack.push(Object.freeze([pop(), b, c]));
        break;
      }
      case OP.EMPTY_LIST:
        stack.push([]);
        break;
      case OP.APPEND: {
        const item = pop();
        const list = top();
        if (!Array.isArray(list) || Object.isFrozen(list))
          fail(`APPEND to a ${describe(list)}, expected a list`, at);
        (list as unknown[]).push(item);
        break;
      }
      case OP.APPENDS: {
        const items = popMark();
        const list = top();
        if (!Array.isArray(list) || Object.isFrozen(list))
          fail(`APPENDS to a ${describe(list)}, expected a list`, at);
        (list as unknown[]).push(...items);
        break;
      }
      case OP.EMPTY_DICT:
        stack.push(new Map());
        break;
      case OP.SETITEM: {
        const value = pop();
        const key = pop();
        dictOnTop('SETITEM').set(key, value);
        break;
      }
      case OP.SETITEMS: {
        const items = popMark();
        if (items.length % 2) fail('SETITEMS with an odd number of items: the pickle is corrupt', at);
        const dict = dictOnTop('SETITEMS');
        for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
        break;
      }
      case OP.EMPTY_SET:
        stack.push(new Set());
        break;
      case OP.BINGET:
        stack.push(memoGet(u8()));
        break;
      case OP.LONG_BINGET:
        stack.push(memoGet(u32()));
        break;
      case OP.BINPUT:
        memo.set(u8(), top());
        break;
      case OP.LONG_BINPUT:
        memo.set(u32(), top());
        break;
      case OP.GLOBAL: {
        // Only a name: the hook decides what it stands for; nothing is imported
        const module = line();
        const name = line();
        stack.push(hooks.global(module, name));
        break;
      }
      case OP.REDUCE: {
        const args = pop();
        const callable = pop();
        if (!isPickleTuple(args)) fail(`REDUCE with ${describe(args)} arguments, expected a tuple`, at);
        stack.push(hooks.reduce(callable, args as PickleTuple));
        break;
      }
      case OP.NEWOBJ: {
        const args = pop();
        const cls = pop();
        if (!isPickleTuple(args)) fail(`NEWOBJ with ${describe(args)} arguments, expected a tuple`, at);
        stack.push(hooks.newObject(cls, args as PickleTuple));
        break;
      }
      case OP.BUILD: {
        const state = pop();
        const target = pop();
        stack.push(hooks.build(target, state));
        break;
      }
      case OP.BINPERSID:
        stack.push(hooks.persistentLoad(pop()));
        break;
      default:
        fail(
          `opcode ${opcodeName(op)} is not one that torch.save writes; ortvision reads only the opcodes of torch's checkpoint format`,
          at,
        );
    }
  }
}

/** A short description of a pickled value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'None';
  if (isPickleTuple(value)) return `tuple of ${value.length}`;
  if (Array.isArray(value)) return 'list';
  if (value instanceof Map) return 'dict';
  if (value instanceof Set) return 'set';
  if (value instanceof Uint8Array) return 'bytes';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

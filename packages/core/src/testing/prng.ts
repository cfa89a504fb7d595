/**
 * A seeded pseudo-random sequence for tests (mulberry32: small, fast, and the same sequence on every platform), so
 * generated inputs are the same on every run and a failure can be replayed from its seed.
 *
 * @example
 * const random = prng(42);
 * random.next(); // in [0, 1)
 * random.int(6); // 0..5
 * random.pick(['a', 'b']);
 */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(list: readonly T[]): T => list[int(list.length)]! };
}

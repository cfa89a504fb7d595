import { checkInteger } from '@ortvision/core';

/**
 * The indices `torch.topk(values, k, sorted=False)` returns on CPU, in the order it returns them.
 *
 * PyTorch (built with libstdc++) runs `std::nth_element(q, q + k - 1, q.end(), greater)` over (value, index) pairs
 * when `k * 64 > n`, and `std::partial_sort` (k largest, descending) otherwise, and keeps the first k pairs: the
 * "unsorted" order is whatever those algorithms leave. Mask2Former's instance post-processing numbers segments in
 * this order, so we replay libstdc++'s introselect (median-of-3 pivot, unguarded partition, heap-select fallback,
 * final insertion sort) and its heap routines step by step. Fixture mask2former: every instance case's
 * `torch_topk_order`.
 */
export function torchTopKUnsortedIndices(values: ArrayLike<number>, k: number): number[] {
  const n = values.length;
  checkInteger(k, `k (top-k of ${n} values)`, { min: 0, max: n });
  if (k === 0) return [];
  const v = new Float64Array(n);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    v[i] = values[i]!;
    idx[i] = i;
  }
  const sorter = new PairSorter(v, idx);
  if (k * 64 <= n) sorter.partialSort(0, k, n);
  else sorter.nthElement(0, k - 1, n);
  return Array.from(idx.subarray(0, k));
}

/** libstdc++'s algorithms over parallel (value, index) arrays with torch's comparator (NaN first, then greater). */
class PairSorter {
  constructor(
    private readonly v: Float64Array,
    private readonly idx: Int32Array,
  ) {}

  private before(va: number, vb: number): boolean {
    return (Number.isNaN(va) && !Number.isNaN(vb)) || va > vb;
  }

  private comp(a: number, b: number): boolean {
    return this.before(this.v[a]!, this.v[b]!);
  }

  private swap(a: number, b: number): void {
    const { v, idx } = this;
    const tv = v[a]!;
    v[a] = v[b]!;
    v[b] = tv;
    const ti = idx[a]!;
    idx[a] = idx[b]!;
    idx[b] = ti;
  }

  private move(to: number, from: number): void {
    this.v[to] = this.v[from]!;
    this.idx[to] = this.idx[from]!;
  }

  /** std::nth_element -> __introselect with depth limit 2 * floor(log2(n)). */
  nthElement(first: number, nth: number, last: number): void {
    if (first === last || nth === last) return;
    let depth = 2 * (31 - Math.clz32(last - first));
    while (last - first > 3) {
      if (depth === 0) {
        this.heapSelect(first, nth + 1, last);
        this.swap(first, nth);
        return;
      }
      depth--;
      const cut = this.unguardedPartitionPivot(first, last);
      if (cut <= nth) first = cut;
      else last = cut;
    }
    this.insertionSort(first, last);
  }

  /** std::partial_sort: heap-select the k best into [first, middle), then sort that heap. */
  partialSort(first: number, middle: number, last: number): void {
    this.heapSelect(first, middle, last);
    for (let end = middle; end - first > 1; ) {
      end--;
      this.popHeap(first, end, end);
    }
  }

  private unguardedPartitionPivot(first: number, last: number): number {
    const mid = first + Math.floor((last - first) / 2);
    this.moveMedianToFirst(first, first + 1, mid, last - 1);
    return this.unguardedPartition(first + 1, last, first);
  }

  private moveMedianToFirst(result: number, a: number, b: number, c: number): void {
    if (this.comp(a, b)) {
      if (this.comp(b, c)) this.swap(result, b);
      else if (this.comp(a, c)) this.swap(result, c);
      else this.swap(result, a);
    } else if (this.comp(a, c)) this.swap(result, a);
    else if (this.comp(b, c)) this.swap(result, c);
    else this.swap(result, b);
  }

  private unguardedPartition(first: number, last: number, pivot: number): number {
    for (;;) {
      while (this.comp(first, pivot)) first++;
      last--;
      while (this.comp(pivot, last)) last--;
      if (!(first < last)) return first;
      this.swap(first, last);
      first++;
    }
  }

  private insertionSort(first: number, last: number): void {
    if (first === last) return;
    const { v, idx } = this;
    for (let i = first + 1; i < last; i++) {
      const value = v[i]!;
      const index = idx[i]!;
      if (this.before(value, v[first]!)) {
        for (let j = i; j > first; j--) this.move(j, j - 1);
      } else {
        let j = i;
        while (this.before(value, v[j - 1]!)) {
          this.move(j, j - 1);
          j--;
        }
        v[j] = value;
        idx[j] = index;
        continue;
      }
      v[first] = value;
      idx[first] = index;
    }
  }

  private heapSelect(first: number, middle: number, last: number): void {
    this.makeHeap(first, middle);
    for (let i = middle; i < last; i++) {
      if (this.comp(i, first)) this.popHeap(first, middle, i);
    }
  }

  private makeHeap(first: number, last: number): void {
    const len = last - first;
    if (len < 2) return;
    for (let parent = Math.floor((len - 2) / 2); ; parent--) {
      this.adjustHeap(first, parent, len, this.v[first + parent]!, this.idx[first + parent]!);
      if (parent === 0) return;
    }
  }

  private popHeap(first: number, last: number, result: number): void {
    const value = this.v[result]!;
    const index = this.idx[result]!;
    this.move(result, first);
    this.adjustHeap(first, 0, last - first, value, index);
  }

  private adjustHeap(first: number, hole: number, len: number, value: number, index: number): void {
    const top = hole;
    let child = hole;
    while (child < Math.floor((len - 1) / 2)) {
      child = 2 * (child + 1);
      if (this.comp(first + child, first + child - 1)) child--;
      this.move(first + hole, first + child);
      hole = child;
    }
    if ((len & 1) === 0 && child === Math.floor((len - 2) / 2)) {
      child = 2 * (child + 1);
      this.move(first + hole, first + child - 1);
      hole = child - 1;
    }
    // __push_heap
    let parent = Math.floor((hole - 1) / 2);
    while (hole > top && this.before(this.v[first + parent]!, value)) {
      this.move(first + hole, first + parent);
      hole = parent;
      parent = Math.floor((hole - 1) / 2);
    }
    this.v[first + hole] = value;
    this.idx[first + hole] = index;
  }
}

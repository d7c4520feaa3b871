/**
 * The I/O area of the fast calls (native/addon/io_area.h) as the façades see it: the
 * cells, the int64 range an i64 cell holds, and {@link FastIo}, the steps a SyncMap or a
 * shared GoCache view takes for a call with an 'f64' / 'i64' key (GoMap has its own, with
 * more kinds). A fast call takes no arguments: the façade writes the view handle and the
 * key into the area, calls, and reads the result cells; nothing may run in between.
 *
 * @module
 */
import type { ValueCodec } from './codecs.ts';

/** Cell 0: the map / view handle. */
export const IO_HANDLE = 0;
/** Cell 1: an 'f64' / 'i64' key. */
export const IO_KEY = 1;
/** Cell 2: an 'f64' / 'i64' value, in or out. */
export const IO_VALUE = 2;
/** Cell 3: found / inserted (0 or 1). */
export const IO_RESULT = 3;

export const I64_MIN = -(2n ** 63n);
export const I64_MAX = 2n ** 63n - 1n;

/** Whether a value can be stored in an int64 cell as it is. */
export function isI64(v: unknown): v is bigint {
  return typeof v === 'bigint' && v >= I64_MIN && v <= I64_MAX;
}

// How a view's keys and values cross in the fast calls: in the I/O area (f64, i64), or
// not at all (keys of other kinds take the generic calls; values of other kinds are an
// argument / the return value).
export const FAST_F64 = 0;
export const FAST_I64 = 1;
export const FAST_NONE = 2;

/** FAST_F64, FAST_I64 or FAST_NONE for a key or value kind. */
export function fastKind(kind: string): number {
  return kind === 'f64' ? FAST_F64 : kind === 'i64' ? FAST_I64 : FAST_NONE;
}

/** One I/O area seen as float64 and as int64 cells. */
export class FastIo {
  readonly f64: Float64Array;
  readonly i64: BigInt64Array;

  constructor(area: ArrayBuffer) {
    this.f64 = new Float64Array(area);
    this.i64 = new BigInt64Array(area);
  }

  /**
   * Puts a view handle and a key of the view's fast key kind in the area; false when the
   * key must take the generic call (a view whose keys are not numeric, or a key of the
   * wrong type: the generic call throws the right error).
   */
  putKey(fastKey: number, handle: number, key: unknown): boolean {
    if (fastKey === FAST_F64) {
      if (typeof key !== 'number') return false;
      this.f64[IO_KEY] = key;
    } else if (fastKey === FAST_I64) {
      if (!isI64(key)) return false;
      this.i64[IO_KEY] = key;
    } else {
      return false;
    }
    this.f64[IO_HANDLE] = handle;
    return true;
  }

  /**
   * The value a fast get produced, or undefined when it found none: numeric values from
   * cell 2, others are `r`, the call's return value (decoded by `codec` when there is one).
   */
  result(fastValue: number, r: unknown, codec: ValueCodec | null): unknown {
    if (this.f64[IO_RESULT] === 0) return undefined;
    if (fastValue === FAST_F64) return this.f64[IO_VALUE];
    if (fastValue === FAST_I64) return this.i64[IO_VALUE];
    return codec === null ? r : codec.decode(r);
  }
}

/**
 * Key and value kinds (API.md "Key and value kinds") and the validation of `GoMap`
 * options.
 *
 * @module
 */
import { describeType, rangeError, typeError } from './errors.ts';

/**
 * How a map stores its keys:
 * - `'any'`: every JS value, compared with SameValueZero exactly as `Map` does (objects
 *   and symbols by identity; `1`, `1n` and `'1'` are different keys);
 * - `'string'`: strings (any UTF-16, lone surrogates included);
 * - `'f64'`: numbers (SameValueZero: `NaN` is one key, `-0` is `0`);
 * - `'i64'`: bigints in the signed 64-bit range;
 * - `'bytes'`: `Uint8Array` / `Buffer` contents (copied in, read back as a new `Buffer`).
 */
export type KeyKind = 'any' | 'string' | 'f64' | 'i64' | 'bytes';

/**
 * How a map stores its values:
 * - `'any'`: live JS values, kept on the JS heap (a read returns the same object);
 * - `'string'`, `'f64'`, `'i64'`, `'bytes'`: as for keys, stored in native memory;
 * - `'json'`: `JSON.stringify`-able values, stored as their JSON text, parsed on read;
 * - `'v8'`: structured-cloneable values (`node:v8` serialize), deserialized on read.
 *
 * Every kind but `'any'` lives off the JS heap: no GC cost, and each read is a copy.
 */
export type ValueKind = 'any' | 'string' | 'f64' | 'i64' | 'bytes' | 'json' | 'v8';

/** Every key kind, in API.md order. */
export const KEY_KINDS: readonly KeyKind[] = ['any', 'string', 'f64', 'i64', 'bytes'];
/** Every value kind, in API.md order. */
export const VALUE_KINDS: readonly ValueKind[] = ['any', 'string', 'f64', 'i64', 'bytes', 'json', 'v8'];

/** The value kinds the native engine stores ('json' is stored as 'string', 'v8' as 'bytes'). */
export type NativeValueKind = 'any' | 'string' | 'f64' | 'i64' | 'bytes';

/** Options of `new GoMap(entries, options)`. */
export interface GoMapOptions {
  /**
   * Pre-size the table for this many entries, like Go's `make(map, hint)`: no growth
   * happens until the map holds more. An integer from 0 to 2^53 - 1; a hint the memory
   * cannot honour throws a `RangeError`. Default 0.
   */
  hint?: number;
  /** How keys are stored and compared (see {@link KeyKind}). Default `'any'`. */
  key?: KeyKind;
  /** How values are stored (see {@link ValueKind}). Default `'any'`. */
  value?: ValueKind;
  /**
   * A fixed 64-bit hash seed, for reproducible tests and benchmarks (a bigint from
   * -(2^63) to 2^64 - 1). Default: a random seed per map, which keeps attackers from
   * choosing keys that collide.
   */
  seed?: bigint;
}

/** Options after validation, with defaults applied. */
export interface ResolvedGoMapOptions {
  hint: number;
  key: KeyKind;
  value: ValueKind;
  /** The seed reduced to 64 unsigned bits, or undefined for a random one. */
  seed: bigint | undefined;
}

const OPTION_NAMES = ['hint', 'key', 'value', 'seed'] as const;
const MIN_SEED = -(2n ** 63n);
const MAX_SEED = 2n ** 64n - 1n;

/** Checks a hint / reserve count: TypeError when not a number, RangeError when not an integer 0..2^53-1. */
export function checkCount(n: unknown, what: string): number {
  if (typeof n !== 'number') throw typeError(`GoMap ${what} must be a number, got ${describeType(n)}`);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw rangeError(`GoMap ${what} must be an integer from 0 to 2^53 - 1, got ${String(n)}`);
  }
  return n;
}

function checkKind<T extends string>(value: unknown, kinds: readonly T[], what: string): T {
  if (typeof value === 'string' && (kinds as readonly string[]).includes(value)) return value as T;
  const list = kinds.map((k) => `'${k}'`).join(', ');
  const got = typeof value === 'string' ? `'${value}'` : describeType(value);
  throw typeError(`GoMap option '${what}' must be one of ${list}, got ${got}`);
}

/** Validates `GoMap` options (TypeError / RangeError) and applies the defaults. */
export function resolveGoMapOptions(options: unknown): ResolvedGoMapOptions {
  if (options === undefined || options === null) {
    return { hint: 0, key: 'any', value: 'any', seed: undefined };
  }
  if (typeof options !== 'object') {
    throw typeError(`GoMap options must be an object, got ${describeType(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (!(OPTION_NAMES as readonly string[]).includes(name)) {
      throw typeError(`GoMap has no option '${name}' (options are ${OPTION_NAMES.map((n) => `'${n}'`).join(', ')})`);
    }
  }
  const o = options as Record<string, unknown>;
  const hint = o.hint === undefined ? 0 : checkCount(o.hint, "option 'hint'");
  const key = o.key === undefined ? 'any' : checkKind(o.key, KEY_KINDS, 'key');
  const value = o.value === undefined ? 'any' : checkKind(o.value, VALUE_KINDS, 'value');
  let seed: bigint | undefined;
  if (o.seed !== undefined) {
    if (typeof o.seed !== 'bigint') throw typeError(`GoMap option 'seed' must be a bigint, got ${describeType(o.seed)}`);
    if (o.seed < MIN_SEED || o.seed > MAX_SEED) {
      throw rangeError(`GoMap option 'seed' must fit in 64 bits (-(2^63) to 2^64 - 1), got ${o.seed}n`);
    }
    seed = BigInt.asUintN(64, o.seed);
  }
  return { hint, key, value, seed };
}

/** The native storage of a value kind. */
export function nativeValueKind(kind: ValueKind): NativeValueKind {
  return kind === 'json' ? 'string' : kind === 'v8' ? 'bytes' : kind;
}

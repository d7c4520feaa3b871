/**
 * The JavaScript side of the key and value kinds: what the native engine does not store
 * itself.
 *
 * - {@link jsonCodec} / {@link v8Codec}: `'json'` and `'v8'` values are encoded here
 *   (JSON text, `node:v8` serialization) and stored natively as a string / bytes.
 * - {@link ObjectIds}: objects and symbols used as `'any'` keys are given identity ids
 *   (never reused); the native map stores the id, so keys compare by identity as in `Map`.
 * - {@link ValueSlab}: `'any'` values stay live JS values in a slab array; the native map
 *   stores their slab index.
 *
 * @module
 */
import { deserialize, serialize } from 'node:v8';
import { describeType, rangeError, typeError } from './errors.ts';

/** Encodes values of one kind to what the native map stores, and back. */
export interface ValueCodec {
  /** Throws a TypeError (or RangeError for values too big or too deep) when it cannot encode. */
  encode(value: unknown): unknown;
  decode(stored: unknown): unknown;
}

function encodeFailure(kind: string, requirement: string, e: unknown): Error {
  const message = `GoMap value must be ${requirement} for value kind '${kind}': ${e instanceof Error ? e.message : String(e)}`;
  // Too deep or too big (stack overflow, string length): a size limit, not a type error.
  return e instanceof RangeError ? rangeError(message, e) : typeError(message, e);
}

/** `'json'` values: `JSON.stringify` on the way in, `JSON.parse` on the way out. */
export const jsonCodec: ValueCodec = {
  encode(value: unknown): string {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (e) {
      throw encodeFailure('json', 'JSON-serializable', e);
    }
    if (text === undefined) {
      throw typeError(`GoMap value must be JSON-serializable for value kind 'json', got ${describeType(value)}`);
    }
    return text;
  },
  decode(stored: unknown): unknown {
    return JSON.parse(stored as string) as unknown;
  },
};

/** `'v8'` values: the structured-clone serialization of `node:v8`. */
export const v8Codec: ValueCodec = {
  encode(value: unknown): Buffer {
    try {
      return serialize(value);
    } catch (e) {
      throw encodeFailure('v8', 'structured-cloneable', e);
    }
  },
  decode(stored: unknown): unknown {
    return deserialize(stored as Buffer) as unknown;
  },
};

/** The codec of a value kind: 'json' and 'v8' values are stored encoded; others as they are (null). */
export function codecOf(valueKind: string): ValueCodec | null {
  return valueKind === 'json' ? jsonCodec : valueKind === 'v8' ? v8Codec : null;
}

/** Whether an `'any'` key is compared by identity (an object, a function or a symbol). */
export function isIdentityKey(key: unknown): key is object | symbol {
  const t = typeof key;
  return (t === 'object' && key !== null) || t === 'function' || t === 'symbol';
}

/**
 * Identity ids of the objects and symbols that are keys of one `'any'` map. An id is
 * given when a key is first stored and dropped when it is deleted; ids are never reused,
 * so a stale id can never name another object. Id 0 is never given: it stands for "an
 * object this map has never stored" in batch lookups.
 */
export class ObjectIds {
  #ids = new Map<object | symbol, number>();
  #objects = new Map<number, object | symbol>();
  #next = 1;

  /** The id of a stored key, or undefined. */
  idOf(key: object | symbol): number | undefined {
    return this.#ids.get(key);
  }
  /** The key an id names, or undefined once it was deleted. */
  keyOf(id: number): object | symbol | undefined {
    return this.#objects.get(id);
  }
  /** The id the next new key will get (not taken until {@link commit}). */
  peekNext(): number {
    return this.#next;
  }
  /** A fresh id for a batch (taken now; committed with {@link commit} once stored). */
  takeNext(): number {
    return this.#next++;
  }
  /** Records that `key` is now stored under `id`. */
  commit(key: object | symbol, id: number): void {
    this.#ids.set(key, id);
    this.#objects.set(id, key);
    if (id >= this.#next) this.#next = id + 1;
  }
  /** Forgets a deleted key. */
  forget(key: object | symbol, id: number): void {
    this.#ids.delete(key);
    this.#objects.delete(id);
  }
  clear(): void {
    this.#ids.clear();
    this.#objects.clear();
  }
}

/**
 * The live values of an `'any'`-valued map: `values[i]` is the value the native map
 * names by slab index i. Freed cells are reused (most recently freed first).
 */
export class ValueSlab {
  values: unknown[] = [];
  #free: number[] = [];

  /** The index the next stored value will take (not taken until {@link take}). */
  candidate(): number {
    const free = this.#free;
    return free.length > 0 ? free[free.length - 1]! : this.values.length;
  }
  /** Stores `value` at the index {@link candidate} returned. */
  take(value: unknown): void {
    const free = this.#free;
    if (free.length > 0) this.values[free.pop()!] = value;
    else this.values.push(value);
  }
  /** Releases a cell whose key was deleted. */
  release(index: number): void {
    this.values[index] = undefined;
    this.#free.push(index);
  }

  /**
   * Reserves `n` distinct cells for a batch (free cells first, then new ones). Returns
   * them; {@link settleMany} or {@link cancelMany} must follow.
   */
  reserveMany(n: number): number[] {
    const free = this.#free;
    const cells: number[] = new Array<number>(n);
    let i = 0;
    for (; i < n && free.length > 0; i++) cells[i] = free.pop()!;
    let next = this.values.length;
    for (; i < n; i++) {
      cells[i] = next++;
      this.values.push(undefined);
    }
    return cells;
  }
  /**
   * Completes a batch: `stored[i]` is the index the map now holds for entry i (its own
   * cell when it was inserted); later entries win. Unused cells are released.
   */
  settleMany(cells: readonly number[], stored: Uint32Array, values: readonly unknown[]): void {
    for (let i = 0; i < cells.length; i++) {
      const s = stored[i]!;
      this.values[s] = values[i];
      if (s !== cells[i]) this.release(cells[i]!);
    }
  }
  /** Gives back every cell of a batch that failed. */
  cancelMany(cells: readonly number[]): void {
    for (let i = cells.length; i-- > 0; ) this.release(cells[i]!);
  }

  clear(): void {
    this.values = [];
    this.#free = [];
  }
}

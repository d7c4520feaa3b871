// Key sets shared by every contender: `"user:" + i` strings and integers 0..n-1 (as
// numbers for GoMap's 'f64' kind, as bigints for 'i64'). Misses are `"miss:" + i`
// (same length and shape as hits) and the integers n..2n-1.
//
// "Fresh" keys are equal to the stored ones but are new objects, built anew like keys
// parsed from a request: V8 has not hashed them yet, so `Map.get` pays for hashing them,
// as it would in a server. `"user:" + i` up to i = 9,999,999 is at most 12 characters,
// below V8's ConsString minimum (13), so concatenation makes a flat sequential string;
// longer ones are flattened explicitly.

const CONS_STRING_MIN_LENGTH = 13;

/** A new, flat, not internalized string equal to `prefix + i`. */
export function freshString(prefix, i) {
  const s = prefix + i;
  return s.length < CONS_STRING_MIN_LENGTH ? s : Buffer.from(s, 'latin1').toString('latin1');
}

/** The JS key for index i of a key kind ('string' | 'f64' | 'i64'). Always a new object. */
export function keyAt(kind, i) {
  switch (kind) {
    case 'string':
      return freshString('user:', i);
    case 'f64':
      return i;
    case 'i64':
      return BigInt(i);
    default:
      throw new TypeError(`unknown key kind ${kind}`);
  }
}

/** A key of the same kind that is never stored (the miss set). */
export function missAt(kind, i, n) {
  switch (kind) {
    case 'string':
      return freshString('miss:', i);
    case 'f64':
      return n + i;
    case 'i64':
      return BigInt(n + i);
    default:
      throw new TypeError(`unknown key kind ${kind}`);
  }
}

/** Keys 0..n-1 in order, as new objects. */
export function storedKeys(kind, n) {
  const keys = new Array(n);
  for (let i = 0; i < n; i++) keys[i] = keyAt(kind, i);
  return keys;
}

/** New key objects equal to stored keys, in the order of `perm`. */
export function freshProbes(kind, perm) {
  const keys = new Array(perm.length);
  for (let j = 0; j < perm.length; j++) keys[j] = keyAt(kind, perm[j]);
  return keys;
}

/** The very objects that were stored, in the order of `perm`. */
export function sameProbes(stored, perm) {
  const keys = new Array(perm.length);
  for (let j = 0; j < perm.length; j++) keys[j] = stored[perm[j]];
  return keys;
}

/** Keys that are not in the map, in the order of `perm`. */
export function missProbes(kind, perm) {
  const n = perm.length;
  const keys = new Array(n);
  for (let j = 0; j < n; j++) keys[j] = missAt(kind, perm[j], n);
  return keys;
}

/** The value stored for key i, and the one an overwrite stores (non-integers: doubles). */
export const valueAt = (i) => i + 0.5;
export const overwriteValueAt = (i) => i + 0.25;

/** Key kinds whose fresh keys differ from the stored objects (numbers are values). */
export const hasObjectIdentity = (kind) => kind !== 'f64';

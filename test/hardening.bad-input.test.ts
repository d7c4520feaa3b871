/**
 * Hostile input from JavaScript, table-driven (API.md "Errors": no input from
 * JavaScript, however wrong, may crash or hang the process).
 *
 * test/gomap.bad-input.test.ts checks wrong kinds, options and sizes one by one, with the
 * error messages. This file throws the nastiest values JS has at every public method,
 * through one table per container (SUBJECTS: GoMap, SyncMap, GoCache, shared GoCache): how to make one (per kind pair), its methods (name + how to call it with
 * arbitrary arguments), and how to read its contents. SyncMap's row also calls
 * SyncMap.attach with hostile, forged (neighbouring ids, other generations), stale (the
 * closed map's), mistyped (other kinds) and live handles, and uses a closed view and a
 * second live view of the map under test as receivers. Arguments mix hostile values with
 * good keys and values of the map's kinds, so a hostile value also reaches the later
 * steps of a call (CAS with a good key, a batch whose first pairs are good).
 *
 * The values (HOSTILE, plus fast-check's `anything`): objects whose valueOf / toString /
 * Symbol.toPrimitive throw, getters that throw (length, elements, entry [0] / [1]),
 * iterables whose iterator throws or yields junk, Proxies whose every trap throws
 * (over objects, arrays, typed arrays, functions), revoked Proxies, detached
 * ArrayBuffers and views of them, typed arrays of every sort, huge and odd numbers and
 * bigints, long strings, lone surrogates, frozen and null-prototype objects, callbacks
 * that throw. Receivers: the map, a closed map, a plain object, Object.create(prototype),
 * a Proxy of the map (forged `this`: the private-field brand check must refuse them).
 *
 * Each call may return, or throw a TypeError, a RangeError, an Error with code
 * ERR_GOMAP_CLOSED, or the HostileError the input itself threw (user code's own error
 * comes through, as with Map). After any throw, whatever the receiver, the map's contents
 * are unchanged (compared with a snapshot taken before the call). At least 10,000 calls
 * run per subject per CI run; the counts are printed. To replay a failure, set
 * GOMAP_BI_SEED and GOMAP_BI_PATH to the seed and path fast-check printed.
 */
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GoCache, GoMap, SyncMap, type GoCacheHandle } from '../lib/index.ts';
import { SYNC_KEY_KINDS, SYNC_VALUE_KINDS, type SyncMapHandle } from '../lib/sync-options.ts';
import { describeEachBackend } from './helpers/backends.ts';
import {
  KEY_KINDS,
  Model,
  VALUE_KINDS,
  bulkKey,
  bulkValue,
  expectMapMatches,
  fcRuns,
  isClosedError,
  makeMap,
  type KeyKindName,
  type LooseMap,
  type ValueKindName,
} from './helpers/kinds.ts';

/** The error hostile input throws on purpose; it may come through a call unchanged. */
class HostileError extends Error {
  constructor(where: string) {
    super(`hostile input: ${where}`);
  }
}
const boom =
  (where: string) =>
  (): never => {
    throw new HostileError(where);
  };

const allTrapsThrow: ProxyHandler<object> = {
  get: boom('proxy get'),
  set: boom('proxy set'),
  has: boom('proxy has'),
  ownKeys: boom('proxy ownKeys'),
  getOwnPropertyDescriptor: boom('proxy getOwnPropertyDescriptor'),
  getPrototypeOf: boom('proxy getPrototypeOf'),
  defineProperty: boom('proxy defineProperty'),
  deleteProperty: boom('proxy deleteProperty'),
  apply: boom('proxy apply'),
  construct: boom('proxy construct'),
};

function revoked<T extends object>(target: T): T {
  const r = Proxy.revocable(target, {});
  r.revoke();
  return r.proxy;
}

function detachedBuffer(bytes: number): { buffer: ArrayBuffer; view: Uint8Array } {
  const buffer = new ArrayBuffer(bytes);
  const view = new Uint8Array(buffer, 2);
  structuredClone(buffer, { transfer: [buffer] }); // detaches `buffer` (and `view`)
  return { buffer, view };
}

/** The hostile values, built once (some are expensive: long strings). */
function hostileValues(): unknown[] {
  const primitiveTrap = { valueOf: boom('valueOf'), toString: boom('toString'), [Symbol.toPrimitive]: boom('toPrimitive') };
  // An array (Array.isArray is true for a Proxy of one) whose length throws.
  const lengthTrap = new Proxy([1, 2, 3], {
    get: (target, p, receiver) => (p === 'length' ? boom('length')() : Reflect.get(target, p, receiver) as unknown),
  });
  const arrayLikeTrap = { get length(): number { return boom('array-like length')(); }, 0: 'a' };
  const elementTrap = Object.defineProperty([undefined, undefined], 0, { get: boom('element 0'), enumerable: true });
  const entryKeyTrap = Object.defineProperty([0, 1], 0, { get: boom('entry key') });
  const entryValueTrap = Object.defineProperty(['k', 1], 1, { get: boom('entry value') });
  const iteratorTrap = { [Symbol.iterator]: boom('Symbol.iterator') };
  const nextTrap = { [Symbol.iterator]: () => ({ next: boom('next') }) };
  const junkIterator = { [Symbol.iterator]: () => ({ next: () => 42 }) };
  const doneGetterTrap = { [Symbol.iterator]: () => ({ next: () => Object.defineProperty({}, 'done', { get: boom('done') }) }) };
  function* yieldsThenThrows(): Generator<unknown> {
    yield ['k', 1];
    yield 1n;
    throw new HostileError('generator');
  }
  const detached = detachedBuffer(16);
  const sparse: unknown[] = [];
  sparse[40] = 'x';
  return [
    primitiveTrap,
    [primitiveTrap, primitiveTrap],
    lengthTrap,
    [lengthTrap],
    arrayLikeTrap,
    elementTrap,
    [entryKeyTrap],
    [entryValueTrap],
    entryKeyTrap,
    iteratorTrap,
    nextTrap,
    junkIterator,
    doneGetterTrap,
    { [Symbol.iterator]: yieldsThenThrows },
    new Proxy({}, allTrapsThrow),
    new Proxy([1, 2], allTrapsThrow),
    new Proxy(['k', 1], allTrapsThrow),
    new Proxy(new Uint8Array(4), allTrapsThrow),
    new Proxy(() => 1, allTrapsThrow),
    new Proxy(Buffer.from('proxy'), {}),
    [new Proxy([], allTrapsThrow)],
    revoked({}),
    revoked([1, 2]),
    revoked(() => 1),
    [revoked(['k', 1])],
    detached.buffer,
    detached.view,
    [[detached.view, detached.view]],
    new DataView(new ArrayBuffer(8)),
    new Float64Array([1, NaN]),
    new BigInt64Array([1n]),
    new BigUint64Array([2n ** 64n - 1n]),
    new Uint32Array(3),
    new Uint8ClampedArray(2),
    new Float32Array(1),
    new SharedArrayBuffer(8),
    new Uint8Array(new SharedArrayBuffer(8)),
    2 ** 53,
    2 ** 64,
    -(2 ** 63),
    1e308,
    -1e-308,
    Number.MAX_VALUE,
    Number.EPSILON,
    -0,
    NaN,
    Infinity,
    -Infinity,
    2n ** 64n,
    -(2n ** 63n) - 1n,
    2n ** 1000n,
    -(2n ** 1000n),
    'x'.repeat(1 << 20),
    '\uD800'.repeat(1000),
    '\uDFFF\uD800',
    sparse,
    new Array(3),
    Object.create(null),
    Object.freeze({ a: 1 }),
    new Date(NaN),
    /re/g,
    new WeakMap(),
    new Map([[1, 2]]),
    new Set([1]),
    Symbol('hostile'),
    Symbol.iterator,
    boom('called as a function'),
    () => undefined,
    function namedFunction() {},
    class Klass {},
    new Error('plain error as a value'),
    Promise.resolve(1),
    globalThis,
    { key: primitiveTrap, value: primitiveTrap, hint: primitiveTrap, seed: primitiveTrap },
    Object.defineProperty({}, 'key', { get: boom('options.key'), enumerable: true }),
    Object.defineProperty({}, 'hint', { get: boom('options.hint'), enumerable: true }),
    new Proxy({ key: 'string' }, allTrapsThrow),
    { key: 'string', value: 'string', hint: 2 ** 60 },
    { hint: -1 },
    { seed: 2n ** 64n },
  ];
}

// ---------------------------------------------------------------------------------
// The table: containers, their kinds and their methods

/** How one method of a container is called with arbitrary arguments. */
interface Method<T> {
  name: string;
  /** Calls it on `self` (maybe not a T at all) with args; consumes returned iterators. */
  call(self: unknown, args: unknown[]): unknown;
}

/** One container under test (GoMap now; SyncMap and GoCache next). */
interface Subject<T> {
  name: string;
  keyKinds: readonly KeyKindName[];
  valueKinds: readonly ValueKindName[];
  make(key: KeyKindName, value: ValueKindName): T;
  /** The contents now, as a model (must not run user code). */
  contents(t: T, key: KeyKindName, value: ValueKindName): Model;
  /** Throws if t's contents differ from the model. */
  expectContents(t: T, model: Model): void;
  close(t: T): void;
  methods: Method<T>[];
  /** Receivers that are not the live T under test (made per run, after `make`). */
  forgedReceivers(closed: T): unknown[];
  /** Frees whatever forgedReceivers made (optional). */
  releaseReceivers?(forged: unknown[]): void;
  /** fast-check runs per key kind: runs x 25 calls x key kinds >= 10,000. */
  runs: number;
}

/** Huge counts that are not refused would reserve real memory: keep them small. */
function tameCount(x: unknown): unknown {
  return typeof x === 'number' && x > 10_000 && x < 2 ** 40 ? 10_000 : x;
}

/** Drains (a bit of) whatever a call returned, so lazy work happens inside the call. */
function consume(r: unknown): unknown {
  if (r !== null && typeof r === 'object' && typeof (r as { next?: unknown }).next === 'function') {
    const it = r as Iterator<unknown>;
    for (let i = 0; i < 3; i++) if (it.next().done) break;
    it.return?.();
  }
  return r;
}

function protoMethod(name: string | symbol, argc: number, tame = false, proto: object = GoMap.prototype): Method<LooseMap> {
  return {
    name: String(name),
    call(self, args) {
      const f = (proto as unknown as Record<string | symbol, (...a: unknown[]) => unknown>)[name]!;
      const a = args.slice(0, argc).map((x) => (tame ? tameCount(x) : x));
      return consume(Reflect.apply(f, self, a));
    },
  };
}

function getter(name: string | symbol, proto: object = GoMap.prototype): Method<LooseMap> {
  return {
    name: `get ${String(name)}`,
    call(self) {
      const d = Object.getOwnPropertyDescriptor(proto, name)!;
      return Reflect.apply(d.get!, self, []);
    },
  };
}

const GOMAP_SUBJECT: Subject<LooseMap> = {
  name: 'GoMap',
  keyKinds: KEY_KINDS,
  valueKinds: VALUE_KINDS,
  make(key, value) {
    const m = makeMap({ key, value });
    for (let i = 0; i < 12; i++) m.set(bulkKey(key, i), bulkValue(value, i));
    return m;
  },
  contents(m, key, value) {
    const model = new Model(key, value);
    for (const [k, v] of m) model.set(k, v);
    return model;
  },
  expectContents: expectMapMatches,
  close: (m) => m.close(),
  methods: [
    protoMethod('get', 1),
    protoMethod('has', 1),
    protoMethod('delete', 1),
    protoMethod('lookup', 1),
    protoMethod('set', 2),
    protoMethod('getMany', 1),
    protoMethod('setMany', 1),
    protoMethod('reserve', 1, true),
    protoMethod('shrink', 0),
    protoMethod('clear', 0),
    protoMethod('stats', 0),
    protoMethod('forEach', 2),
    protoMethod('keys', 0),
    protoMethod('values', 0),
    protoMethod('entries', 0),
    protoMethod(Symbol.iterator, 0),
    protoMethod('close', 0),
    protoMethod(Symbol.dispose ?? Symbol.for('nodejs.dispose'), 0),
    getter('size'),
    getter(Symbol.toStringTag),
    {
      name: 'constructor',
      call(_self, args) {
        const Ctor = GoMap as unknown as new (...a: unknown[]) => LooseMap;
        const options = args[1];
        const tamed =
          options !== null && typeof options === 'object' && !Array.isArray(options) && Object.getPrototypeOf(options) === Object.prototype
            ? { ...(options as object), ...('hint' in options ? { hint: tameCount((options as { hint: unknown }).hint) } : {}) }
            : options;
        new Ctor(args[0], tamed).close();
        return undefined;
      },
    },
  ],
  forgedReceivers(closed) {
    return [closed, {}, Object.create(GoMap.prototype), new Proxy(closed, {}), null, undefined, 42, 'map', new Map()];
  },
  runs: 80,
};

type LooseSync = SyncMap<unknown, unknown>;

/**
 * Handles of the SyncMaps made last: [0] the closed map's (stale: every view of it is
 * closed, so the map is gone), [1] the live map's (stale too once the plan closes it).
 */
const recentHandles: SyncMapHandle[] = [];
let forgeRound = 0;

/** Attaches (any thread may): a view that opens is read and closed at once. */
function attachAndClose(handle: unknown): unknown {
  const view = SyncMap.attach(handle as SyncMapHandle);
  try {
    return view.size;
  } finally {
    view.close();
  }
}

/** Ids that are not the live map's: neighbours, other generations, the stale map's, junk. */
function forgedId(live: number, stale: number): number {
  const ids = [live + 1, live - 1, live + 2 ** 16, live + 2 ** 20, live + 2 ** 32, live * 2, 2 ** 53 - 1, 1, stale, stale + 1];
  return ids[forgeRound++ % ids.length]!;
}

const syncProto = SyncMap.prototype as object;
const syncMethod = (name: string | symbol, argc: number): Method<LooseMap> => protoMethod(name, argc, false, syncProto);
const live = (): SyncMapHandle => recentHandles[1]!;
const stale = (): SyncMapHandle => recentHandles[0]!;

const SYNCMAP_SUBJECT: Subject<LooseSync> = {
  name: 'SyncMap',
  keyKinds: SYNC_KEY_KINDS,
  valueKinds: SYNC_VALUE_KINDS,
  make(key, value) {
    const m = new SyncMap<unknown, unknown>({ key: key as never, value: value as never });
    for (let i = 0; i < 12; i++) m.set(bulkKey(key, i), bulkValue(value, i));
    recentHandles.unshift(m.handle);
    recentHandles.length = Math.min(recentHandles.length, 2);
    return m;
  },
  contents(m, key, value) {
    const model = new Model(key, value);
    for (const [k, v] of m) model.set(k, v);
    return model;
  },
  expectContents: (m, model) => expectMapMatches(m as unknown as LooseMap, model),
  close: (m) => m.close(),
  methods: [
    syncMethod('get', 1),
    syncMethod('has', 1),
    syncMethod('delete', 1),
    syncMethod('lookup', 1),
    syncMethod('set', 2),
    syncMethod('getMany', 1),
    syncMethod('setMany', 1),
    syncMethod('loadOrStore', 2),
    syncMethod('loadAndDelete', 1),
    syncMethod('swap', 2),
    syncMethod('compareAndSwap', 3),
    syncMethod('compareAndDelete', 2),
    syncMethod('range', 1),
    syncMethod('clear', 0),
    syncMethod('stats', 0),
    syncMethod('forEach', 2),
    syncMethod('keys', 0),
    syncMethod('values', 0),
    syncMethod('entries', 0),
    syncMethod(Symbol.iterator, 0),
    syncMethod('close', 0),
    syncMethod(Symbol.dispose ?? Symbol.for('nodejs.dispose'), 0),
    getter('size', syncProto),
    getter('handle', syncProto),
    getter(Symbol.toStringTag, syncProto),
    {
      name: 'constructor',
      call(_self, args) {
        const options = args[0];
        const tamed =
          options !== null && typeof options === 'object' && !Array.isArray(options) && Object.getPrototypeOf(options) === Object.prototype
            ? { ...(options as object), ...('hint' in options ? { hint: tameCount((options as { hint: unknown }).hint) } : {}) }
            : options;
        new SyncMap(tamed as never).close();
        return undefined;
      },
    },
    { name: 'attach(arg)', call: (_self, args) => attachAndClose(args[0]) },
    { name: 'attach(live handle)', call: () => attachAndClose(live()) },
    { name: 'attach(stale handle)', call: () => attachAndClose(stale()) },
    { name: 'attach(forged id)', call: () => attachAndClose({ ...live(), id: forgedId(live().id, stale().id) }) },
    { name: 'attach(id = arg)', call: (_self, args) => attachAndClose({ ...live(), id: args[0] }) },
    { name: 'attach(key = arg)', call: (_self, args) => attachAndClose({ ...live(), key: args[0] }) },
    { name: 'attach(value = arg)', call: (_self, args) => attachAndClose({ ...live(), value: args[1] }) },
    { name: 'attach(type = arg)', call: (_self, args) => attachAndClose({ ...live(), type: args[0] }) },
    {
      name: 'attach(mistyped kinds)',
      call() {
        const h = live();
        const key = SYNC_KEY_KINDS[(SYNC_KEY_KINDS.indexOf(h.key) + 1 + (forgeRound % 3)) % SYNC_KEY_KINDS.length]!;
        const value = SYNC_VALUE_KINDS[(SYNC_VALUE_KINDS.indexOf(h.value) + 1 + (forgeRound++ % 5)) % SYNC_VALUE_KINDS.length]!;
        return forgeRound % 2 === 0 ? attachAndClose({ ...h, key }) : attachAndClose({ ...h, value });
      },
    },
  ],
  forgedReceivers(closed) {
    // A closed view of the live map (the map itself stays open), a second live view of it
    // (its calls may change the map: the snapshot is retaken after every call), a live
    // GoMap (the wrong class), and non-maps.
    const closedView = SyncMap.attach(live());
    closedView.close();
    const otherView = SyncMap.attach(live());
    const goMap = makeMap({ key: 'string', value: 'string' });
    goMap.set('k', 'v');
    return [closed, closedView, otherView, goMap, {}, Object.create(SyncMap.prototype), new Proxy(closed, {}), new Proxy(otherView, {}), null, undefined, 42, new Map(), recentHandles[1]];
  },
  releaseReceivers(forged) {
    (forged[2] as LooseSync).close();
    (forged[3] as LooseMap).close();
  },
  runs: 100,
};

type LooseCache = GoCache<unknown, unknown>;
const cacheProto = GoCache.prototype as object;
const cacheMethod = (name: string | symbol, argc: number, tame = false): Method<LooseMap> =>
  protoMethod(name, argc, tame, cacheProto);

/** Bounds that are not refused would size real tables: keep them small (as tameCount). */
function tameCacheOptions(options: unknown): unknown {
  if (options === null || typeof options !== 'object' || Array.isArray(options) || Object.getPrototypeOf(options) !== Object.prototype) {
    return options;
  }
  const o: Record<string, unknown> = { ...(options as object) };
  for (const name of ['max', 'maxBytes']) if (name in o) o[name] = tameCount(o[name]);
  return o;
}

const GOCACHE_SUBJECT: Subject<LooseCache> = {
  name: 'GoCache',
  keyKinds: KEY_KINDS,
  valueKinds: VALUE_KINDS,
  make(key, value) {
    // No ttl: contents change only through calls (a snapshot is retaken after each one).
    const c = new GoCache<unknown, unknown>({ max: 64, key, value });
    for (let i = 0; i < 12; i++) c.set(bulkKey(key, i), bulkValue(value, i));
    return c;
  },
  contents(c, key, value) {
    const model = new Model(key, value);
    for (const [k, v] of c) model.set(k, v);
    return model;
  },
  expectContents: (c, model) => expectMapMatches(c as unknown as LooseMap, model),
  close: (c) => c.close(),
  methods: [
    cacheMethod('get', 1),
    cacheMethod('peek', 1),
    cacheMethod('has', 1),
    cacheMethod('delete', 1),
    cacheMethod('set', 3),
    cacheMethod('getRemainingTTL', 1),
    cacheMethod('clear', 0),
    cacheMethod('purgeStale', 0),
    cacheMethod('stats', 0),
    cacheMethod('forEach', 2),
    cacheMethod('keys', 0),
    cacheMethod('values', 0),
    cacheMethod('entries', 0),
    cacheMethod(Symbol.iterator, 0),
    cacheMethod('close', 0),
    cacheMethod(Symbol.dispose ?? Symbol.for('nodejs.dispose'), 0),
    getter('size', cacheProto),
    getter(Symbol.toStringTag, cacheProto),
    {
      // Without a fetch option, fetch(key) resolves to get(key): a bad key rejects the
      // promise (observed here, so no rejection goes unhandled) or throws at once.
      name: 'fetch',
      call(self, args) {
        const f = (cacheProto as { fetch: (k: unknown) => Promise<unknown> }).fetch;
        const p = Reflect.apply(f, self, [args[0]]) as unknown;
        if (p instanceof Promise) p.catch(() => undefined);
        return undefined;
      },
    },
    {
      name: 'constructor',
      call(_self, args) {
        new GoCache(tameCacheOptions(args[0]) as never).close();
        return undefined;
      },
    },
  ],
  forgedReceivers(closed) {
    const goMap = makeMap({ key: 'string', value: 'string' });
    goMap.set('k', 'v');
    return [closed, goMap, {}, Object.create(GoCache.prototype), new Proxy(closed, {}), null, undefined, 42, new Map()];
  },
  releaseReceivers(forged) {
    (forged[1] as LooseMap).close();
  },
  runs: 80,
};

/** Handles of the shared GoCaches made last: [0] the closed one's, [1] the live one's. */
const recentCacheHandles: GoCacheHandle[] = [];

/** Attaches a shared cache view (any thread may): read and closed at once. */
function attachCacheAndClose(handle: unknown, options?: unknown): unknown {
  const view = GoCache.attach(handle as GoCacheHandle, options as never);
  try {
    return view.size;
  } finally {
    view.close();
  }
}
const liveCache = (): GoCacheHandle => recentCacheHandles[1]!;
const staleCache = (): GoCacheHandle => recentCacheHandles[0]!;

const SHARED_GOCACHE_SUBJECT: Subject<LooseCache> = {
  ...GOCACHE_SUBJECT,
  name: 'GoCache shared',
  keyKinds: SYNC_KEY_KINDS,
  valueKinds: SYNC_VALUE_KINDS,
  make(key, value) {
    const c = new GoCache<unknown, unknown>({ shared: true, max: 64, key: key as never, value: value as never });
    for (let i = 0; i < 12; i++) c.set(bulkKey(key, i), bulkValue(value, i));
    recentCacheHandles.unshift(c.handle);
    recentCacheHandles.length = Math.min(recentCacheHandles.length, 2);
    return c;
  },
  methods: [
    ...GOCACHE_SUBJECT.methods.filter((m) => m.name !== 'constructor'),
    getter('handle', cacheProto),
    getter('shared', cacheProto),
    {
      name: 'constructor',
      call(_self, args) {
        const o = tameCacheOptions(args[0]);
        const shared = o !== null && typeof o === 'object' && !Array.isArray(o) ? { ...(o as object), shared: true } : o;
        new GoCache(shared as never).close();
        return undefined;
      },
    },
    { name: 'attach(arg)', call: (_self, args) => attachCacheAndClose(args[0]) },
    { name: 'attach(live, options = arg)', call: (_self, args) => attachCacheAndClose(liveCache(), args[0]) },
    { name: 'attach(stale handle)', call: () => attachCacheAndClose(staleCache()) },
    { name: 'attach(forged id)', call: () => attachCacheAndClose({ ...liveCache(), id: forgedId(liveCache().id, staleCache().id) }) },
    { name: 'attach(id = arg)', call: (_self, args) => attachCacheAndClose({ ...liveCache(), id: args[0] }) },
    { name: 'attach(key = arg)', call: (_self, args) => attachCacheAndClose({ ...liveCache(), key: args[0] }) },
    { name: 'attach(value = arg)', call: (_self, args) => attachCacheAndClose({ ...liveCache(), value: args[1] }) },
    { name: 'attach(a SyncMap handle)', call: () => attachCacheAndClose({ ...recentHandles[1], type: 'gomap.GoCache' }) },
  ],
  forgedReceivers(closed) {
    const closedView = GoCache.attach(liveCache());
    closedView.close();
    const goMap = makeMap({ key: 'string', value: 'string' });
    goMap.set('k', 'v');
    const local = new GoCache({ max: 4, key: 'string', value: 'string' });
    return [closed, goMap, local, closedView, {}, Object.create(GoCache.prototype), new Proxy(closed, {}), null, undefined, 42, new Map()];
  },
  releaseReceivers(forged) {
    (forged[1] as LooseMap).close();
    (forged[2] as LooseCache).close();
  },
  runs: 100,
};

// Every class on both engines.
const SUBJECTS = [GOMAP_SUBJECT, SYNCMAP_SUBJECT, GOCACHE_SUBJECT, SHARED_GOCACHE_SUBJECT] as Subject<unknown>[];

// ---------------------------------------------------------------------------------
// The property

function isAllowed(e: unknown): boolean {
  return e instanceof TypeError || e instanceof RangeError || isClosedError(e) || e instanceof HostileError;
}

/** Per subject: calls made, and how many threw an allowed error. */
const counts = new Map<string, { calls: number; threw: number }>();

describeEachBackend('hardening: hostile input to every public method', () => {
  const hostile = hostileValues();
  // fast-check inspects generated values (to clone them, to print them): hostile values
  // would throw at it. So the arbitraries produce descriptions (an index into HOSTILE, or
  // a harmless value), resolved into real arguments inside the property.
  // Good keys and values (of the map's kinds; 0..11 are present, 12..15 absent) let a
  // hostile argument reach the later steps of a call (a CAS whose key and old value are
  // fine, a batch whose first pairs are fine and whose last one is not).
  type ArgPlan =
    | { hostile: number }
    | { value: unknown }
    | { entries: [number, unknown][] }
    | { goodKey: number }
    | { goodValue: number }
    | { goodThen: [number, unknown][] };
  const resolve = (a: ArgPlan, key: KeyKindName, value: ValueKindName): unknown => {
    if ('hostile' in a) return hostile[a.hostile];
    if ('value' in a) return a.value;
    if ('goodKey' in a) return bulkKey(key, a.goodKey);
    if ('goodValue' in a) return bulkValue(value, a.goodValue);
    const bad = ('entries' in a ? a.entries : a.goodThen).map(([h, v]) => [hostile[h], v]);
    return 'entries' in a ? bad : [[bulkKey(key, 3), bulkValue(value, 14)], [bulkKey(key, 13), bulkValue(value, 1)], ...bad];
  };
  const hostileIndex = fc.nat(hostile.length - 1);
  const arg: fc.Arbitrary<ArgPlan> = fc.oneof(
    { arbitrary: hostileIndex.map((i) => ({ hostile: i })), weight: 4 },
    {
      arbitrary: fc
        .anything({
          maxDepth: 2,
          withBigInt: true,
          withTypedArray: true,
          withMap: true,
          withSet: true,
          withDate: true,
          withBoxedValues: true,
          withNullPrototype: true,
          withSparseArray: true,
          withUnicodeString: true,
        })
        .map((value) => ({ value })),
      weight: 3,
    },
    { arbitrary: fc.array(fc.tuple(hostileIndex, fc.anything()), { maxLength: 4 }).map((entries) => ({ entries })), weight: 1 },
    { arbitrary: fc.nat(15).map((goodKey) => ({ goodKey })), weight: 2 },
    { arbitrary: fc.nat(15).map((goodValue) => ({ goodValue })), weight: 2 },
    { arbitrary: fc.array(fc.tuple(hostileIndex, fc.anything()), { minLength: 1, maxLength: 2 }).map((goodThen) => ({ goodThen })), weight: 1 },
  );

  for (const subject of SUBJECTS) {
    const count = { calls: 0, threw: 0 };
    counts.set(subject.name, count);
    describe(subject.name, () => {
      for (const keyKind of subject.keyKinds) {
        it(`'${keyKind}' keys: only TypeError / RangeError / ERR_GOMAP_CLOSED / the input's own error; contents unchanged after a throw`, () => {
          const call = fc.record({
            method: fc.integer({ min: 0, max: subject.methods.length - 1 }),
            receiver: fc.oneof({ arbitrary: fc.constant(-1), weight: 6 }, { arbitrary: fc.nat(20), weight: 1 }),
            args: fc.array(arg, { minLength: 3, maxLength: 3 }),
          });
          fc.assert(
            fc.property(fc.constantFrom(...subject.valueKinds), fc.array(call, { minLength: 25, maxLength: 25 }), (valueKind, plan) => {
              const t = subject.make(keyKind, valueKind);
              const closed = subject.make(keyKind, valueKind);
              subject.close(closed);
              const forged = subject.forgedReceivers(closed);
              let open = true;
              let before = subject.contents(t, keyKind, valueKind);
              try {
                for (const c of plan) {
                  const method = subject.methods[c.method]!;
                  const self = c.receiver < 0 || !open ? (open ? t : closed) : forged[c.receiver % forged.length];
                  count.calls++;
                  try {
                    method.call(self, c.args.map((a) => resolve(a, keyKind, valueKind)));
                  } catch (e) {
                    count.threw++;
                    if (!isAllowed(e)) {
                      throw new Error(`${subject.name}.${method.name} threw ${String(e)} (not an allowed error)`, { cause: e });
                    }
                    // Whatever the receiver (t, a closed or second view of t's map, a
                    // forgery), a call that throws leaves t's contents as they were.
                    if (open) {
                      try {
                        subject.expectContents(t, before);
                      } catch (mismatch) {
                        const who = self === t ? 'the map' : `receiver ${c.receiver % forged.length}`;
                        throw new Error(`${subject.name}.${method.name} on ${who} threw ${String(e)} and changed the contents`, { cause: mismatch });
                      }
                    }
                  }
                  if (open && self === t && (method.name === 'close' || method.name === String(Symbol.dispose ?? Symbol.for('nodejs.dispose')))) {
                    open = false;
                  }
                  if (open) before = subject.contents(t, keyKind, valueKind);
                }
              } finally {
                if (open) subject.close(t);
                subject.releaseReceivers?.(forged);
              }
            }),
            { numRuns: fcRuns(subject.runs), ...(process.env.GOMAP_BI_SEED ? { seed: Number(process.env.GOMAP_BI_SEED), path: process.env.GOMAP_BI_PATH, endOnFailure: true } : {}) },
          );
        });
      }
    });
  }

  it('a string of the largest length V8 allows: refused or handled, never a crash', () => {
    const huge = 'x'.repeat(2 ** 29 - 24); // V8's maximum string length on 64-bit
    const withSync = SUBJECTS.includes(SYNCMAP_SUBJECT as Subject<unknown>);
    const numbers = makeMap({ key: 'f64', value: 'string' });
    const syncNumbers = withSync ? new SyncMap<unknown, unknown>({ key: 'f64', value: 'string' }) : undefined;
    numbers.set(1, 'one');
    syncNumbers?.set(1, 'one');
    const model = GOMAP_SUBJECT.contents(numbers, 'f64', 'string');
    const tries: [Subject<unknown>, () => unknown][] = [
      [GOMAP_SUBJECT, () => numbers.set(huge, 'v')],
      [GOMAP_SUBJECT, () => numbers.get(huge)],
      [GOMAP_SUBJECT, () => numbers.setMany([[3, 'ok'], [huge, 'v']])],
    ];
    if (syncNumbers) {
      tries.push(
        [SYNCMAP_SUBJECT, () => syncNumbers.set(huge, 'v')],
        [SYNCMAP_SUBJECT, () => syncNumbers.loadOrStore(huge, 'v')],
        [SYNCMAP_SUBJECT, () => syncNumbers.setMany([[3, 'ok'], [huge, 'v']])],
      );
    }
    for (const [subject, f] of tries) {
      counts.get(subject.name)!.calls++;
      let error: unknown;
      try {
        f();
      } catch (e) {
        error = e;
      }
      expect(error, 'a string is not an f64 key').toBeInstanceOf(TypeError);
      expectMapMatches(numbers, model);
      if (syncNumbers) expectMapMatches(syncNumbers as unknown as LooseMap, model);
    }
    numbers.close();
    syncNumbers?.close();
    // A 'string' map takes it as a key (a key may be up to 1 GiB): looking it up works.
    const strings = makeMap({ key: 'string', value: 'f64' });
    strings.set('x', 1);
    counts.get('GoMap')!.calls++;
    expect(strings.has(huge)).toBe(false);
    expect(strings.size).toBe(1);
    strings.close();
    if (withSync) {
      const syncStrings = new SyncMap<unknown, unknown>({ key: 'string', value: 'f64' });
      syncStrings.set('x', 1);
      counts.get('SyncMap')!.calls += 2;
      expect(syncStrings.has(huge)).toBe(false);
      expect(syncStrings.get(huge)).toBe(undefined);
      expect(syncStrings.size).toBe(1);
      syncStrings.close();
    }
  });

  it(`ran at least 10,000 hostile calls per subject (printed)`, () => {
    for (const subject of SUBJECTS) {
      const c = counts.get(subject.name)!;
      console.log(`hardening bad-input: ${subject.name}: ${c.calls} hostile calls, ${c.threw} of them threw an allowed error, no crash`);
      expect(c.calls, subject.name).toBeGreaterThanOrEqual(10_000 * Math.min(1, fcRuns(subject.runs) / subject.runs));
    }
  });
});

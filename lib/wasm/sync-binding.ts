/**
 * SyncMap on the WebAssembly engine: the {@link SyncBinding} interface of the native
 * addon, over wasm/gomap-threads.wasm (native/wasm/sync_exports.cc) instantiated in every
 * thread over one shared `WebAssembly.Memory`.
 *
 * Design:
 *
 * - A *domain* is one shared memory as one JS thread (realm) sees it: the memory, this
 *   thread's instance of the threads module over it, this thread's stack and its
 *   `Thread` state (I/O area, buffers, EBR record) in that memory. The first SyncMap a
 *   thread creates makes a memory (64 pages, maximum 4 GiB) and so a domain; a handle
 *   carries its memory (`handle.memory`, a shared WebAssembly.Memory: structured-
 *   cloneable), and `SyncMap.attach` in another thread finds or makes that thread's
 *   domain of it. A memory is recognised by the magic word and random id its creator
 *   writes at bytes 0 and 8 (linear memory below 1024 is never used by the module). Everything else a map needs
 *   (the map registry, epochs, the heap) is static data of the module, so one per memory.
 * - Stacks: every instance of a module starts with the same __stack_pointer. A thread
 *   takes the memory's boot lock (a word locked with Atomics), allocates a stack of
 *   {@link STACK_BYTES} from the shared heap while on the static stack, points its
 *   exported __stack_pointer there and unlocks: afterwards no two threads share a stack.
 * - Views are named by generation-checked handles (>= 2^32) in a table of this thread:
 *   another thread's view handle never matches (ERR_GOMAP_CLOSED), as with the addon.
 * - Keys and values are written into the thread's scratch buffer as Args (abi.h), encoded
 *   as the addon's sync codecs do (native/addon/sync_codec.h): f64 keys folded
 *   (SameValueZero), f64 values exact bits, i64 two's complement, strings Latin-1 or
 *   UTF-16LE, bytes as they are; 'json' values arrive as their JSON text, 'v8' values as
 *   their serialization. Word kinds travel in the Arg's word (ptr 0, length 8).
 * - Values read are copied by the module into the thread's out buffer while the epoch is
 *   pinned, and from there into JS values before the next call.
 * - A worker that exits normally ends its views and its thread state (process 'exit'). A
 *   worker that is terminated cannot run JS any more; it may die anywhere in the module,
 *   locks held. The lock words record their owner and a watcher worker marks dead threads
 *   (lib/wasm/sync-watcher.ts, native/wasm/thread_liveness.cc): the waiters stop waiting,
 *   a map whose write lock died with its owner is poisoned for writes (ERR_GOMAP_POISONED,
 *   reads go on), the dead thread's epoch pin, Thread and stack are released. Its views
 *   are not (the map stays allocated).
 * - Every export is called through a wrapper (guardedExports) that catches a trap: a
 *   trapped call may have left a lock held or the epoch pinned, so the thread gives up
 *   its id and EBR record for new ones (Domain.afterTrap).
 *
 * - Shared GoCaches live in the same registry and views table (a view record marked
 *   `cache`, which the SyncMap calls refuse): lib/wasm/shared-cache-binding.ts builds
 *   their functions from this binding's {@link SyncKit}.
 *
 * - Compiling the module turns off V8's baseline wasm compiler for the process
 *   (lib/wasm/v8-workarounds.ts: Liftoff's code let two threads into its lock).
 *
 * README, Engines, has the limits.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import type { MapStats } from '../binding.ts';
import { closedError, poisonedError, rangeError, typeError } from '../errors.ts';
import type { SharedCacheBinding } from '../shared-cache.ts';
import type { SyncBinding, SyncIteratorHandle, SyncKeyKind, SyncPackedBatch, SyncValueKind, SyncViewHandle } from '../sync-binding.ts';
import { createWasmSharedCacheFunctions } from './shared-cache-binding.ts';
import {
  ATTACH_NO_MEMORY,
  ARG_BYTES,
  CELL_HANDLE,
  CELL_KEY,
  CELL_RESULT,
  CELL_VALUE,
  IO_AUX,
  IO_KEY,
  IO_OLD,
  IO_OUT,
  IO_STATS,
  IO_VALUE,
  K_BYTES,
  K_F64,
  K_I64,
  K_JSON,
  K_STRING,
  KEY_CODES,
  KIND_NAMES,
  MEMORY_CLOCK_INDEX,
  RESULT_NO_MEMORY,
  RESULT_TOO_LARGE,
  VALUE_CODES,
} from './sync-layout.ts';
import { watch, type WatchedThread } from './sync-watcher.ts';
import { avoidLiftoff } from './v8-workarounds.ts';
import { bytesLength, isBytes, mapStatsAt, MAX_BLOB_BYTES, MemoryViews, nativeTypeName, seedWords, TAG_BIGINT, TAG_BYTES, TAG_NUMBER } from './heap.ts';

/**
 * Pages of a new shared memory: all of it (4 GiB), so that it never grows. V8 tells the
 * other threads' instances about a shared memory's growth lazily (at their next interrupt
 * check), and a lock-free reader in another thread can follow a pointer, published by a
 * writer, into the new pages before its instance knows they exist, and trap "memory
 * access out of bounds". Made whole at once, the memory costs address space only: pages
 * are backed when first touched. (This removed one suspect of the readers-racing-a-growing-
 * writer failure, not the failure: see test/syncmap.workers.test.ts.)
 * (The module is linked for 64 pages at least: scripts/build-wasm.mjs.)
 */
const INITIAL_PAGES = 65536;
/** What a memory given to attach must have at least (the module's declared minimum). */
const LINKED_PAGES = 64;
/** The memory's maximum: 4 GiB, all of wasm32 (V8 reserves it up front: virtual only). */
const MAX_PAGES = 65536;
/** Each thread's stack in linear memory (the core's deepest frames need a few KiB). */
export const STACK_BYTES = 256 * 1024;
/**
 * A gomap memory starts with a magic word (u32 at byte 0) and its id (a Float64 at byte
 * 8): below the module's data, which starts at 1024. A memory without the magic is not a
 * SyncMap's (a forged handle): attach refuses it before instantiating anything over it.
 */
const MEMORY_MAGIC = 0x4d53_4f47; // 'GOSM'
const MEMORY_ID_INDEX = 1;

/** How long a thread waits for another one to leave the static stack before giving up. */
const BOOT_WAIT_MS = 10_000;

const TWO_32 = 0x1_0000_0000;
const MAX_GENERATION = 2 ** 21;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const MAX_BATCH = 1 << 16;

/** The exports of wasm/gomap-threads.wasm. Addresses are i32 numbers. */
interface ThreadsExports {
  readonly __stack_pointer: { value: number };
  gomap_sync_boot_lock(): number;
  gomap_sync_stack(bytes: number, id: number): number;
  gomap_sync_claim_id(): number;
  gomap_sync_thread_start(): number;
  gomap_sync_thread_end(thread: number): void;
  gomap_sync_scratch(thread: number, bytes: number): number;
  gomap_sync_create(thread: number, keyKind: number, valueKind: number, hint: number, seedLo: number, seedHi: number): number;
  gomap_sync_attach(thread: number, id: number, keyKind: number, valueKind: number): number;
  gomap_sync_detach(thread: number, id: number): void;
  /** 1 when the map at `map` is a shared GoCache (its limits to io.stats), else 0 (shared_cache_exports.cc). */
  gomap_scache_limits(thread: number, map: number): number;
  gomap_sync_live_maps(): number;
  gomap_sync_get(thread: number, map: number): number;
  gomap_sync_has(thread: number, map: number): number;
  gomap_sync_size(map: number): number;
  gomap_sync_set(thread: number, map: number): number;
  gomap_sync_delete(thread: number, map: number, withValue: number): number;
  gomap_sync_load_or_store(thread: number, map: number): number;
  gomap_sync_swap(thread: number, map: number): number;
  gomap_sync_compare_and_swap(thread: number, map: number): number;
  gomap_sync_compare_and_delete(thread: number, map: number): number;
  gomap_sync_set_many(thread: number, map: number, n: number, keys: number, values: number): number;
  gomap_sync_clear(thread: number, map: number): void;
  gomap_sync_stats(thread: number, map: number): void;
  gomap_sync_iter_start(thread: number, map: number): number;
  gomap_sync_iter_next(thread: number, map: number, it: number, max: number, keysOnly: number): number;
  gomap_sync_iter_end(thread: number, map: number, it: number): void;
  gomap_sync_fail_nth_allocation(n: number): void;
  gomap_sync_collect(thread: number): number;
  gomap_sync_pending(): number;
  gomap_sync_heap_pages(): number;
  gomap_sync_self(): number;
  gomap_sync_take_broken(): number;
  gomap_sync_thread_renew(thread: number): number;
  gomap_sync_release_dead(id: number): number;
  gomap_sync_testing_hold_write_lock(thread: number, map: number, flag: number): void;
  gomap_sync_testing_heap_stress(seed: number, rounds: number): number;
  gomap_sync_testing_lock_stress(map: number, rounds: number): number;
  gomap_sync_testing_lock_count(): number;
}

/** The parts of the global `WebAssembly` namespace used here. */
interface SharedMemory {
  readonly buffer: SharedArrayBuffer;
}
interface WebAssemblyThreadsApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => SharedMemory;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WebAssemblyThreadsApi }).WebAssembly;

function noMemory(what: string): RangeError {
  const e = rangeError(`SyncMap ${what}: out of memory (the map is unchanged)`);
  (e as { code: string }).code = 'ERR_GOMAP_NO_MEMORY';
  return e;
}

function poisoned(cause?: unknown): Error {
  return poisonedError(
    'SyncMap is poisoned for writes: a thread died (worker.terminate()) holding its write lock, or the ' +
      "shared memory's allocator or map registry lock, in the middle of an update nobody can finish; " +
      'reads go on, writes are refused',
    cause,
  );
}

/**
 * The exports of `d` with each function wrapped: a trap goes through `d.afterTrap`, and a
 * thread that could not recover from one throws ERR_GOMAP_POISONED without calling in.
 */
function guardedExports(d: Domain): ThreadsExports {
  const out: Record<string, unknown> = { __stack_pointer: d.raw.__stack_pointer };
  for (const [name, f] of Object.entries(d.raw as unknown as Record<string, unknown>)) {
    if (typeof f !== 'function') continue;
    const fn = f as (a?: number, b?: number, c?: number, e?: number, g?: number, h?: number, i?: number, j?: number) => number;
    out[name] = (a?: number, b?: number, c?: number, e?: number, g?: number, h?: number, i?: number, j?: number): number => {
      if (d.lost) throw poisoned();
      try {
        return fn(a, b, c, e, g, h, i, j);
      } catch (error) {
        throw d.afterTrap(error);
      }
    };
  }
  return out as unknown as ThreadsExports;
}

function statusError(result: number, what: string): RangeError {
  if (result === RESULT_TOO_LARGE) return rangeError(`SyncMap ${what}: size too large (the map is unchanged)`);
  return noMemory(what);
}

function wrongKind(role: string, expected: string, kind: string, received: unknown, owner: string): TypeError {
  return typeError(`${owner} ${role} must be ${expected} for ${role} kind '${kind}', got ${nativeTypeName(received)}`);
}

function tooLong(role: string, kind: string, bytes: number, owner: string): RangeError {
  return rangeError(`${owner} ${role} of ${bytes} bytes is over the ${MAX_BLOB_BYTES}-byte (1 GiB) limit of ${role} kind '${kind}'`);
}

function viewClosed(): Error {
  const e = closedError();
  e.message = 'SyncMap is closed: this view cannot be used after close()';
  return e;
}

function isSharedMemory(m: unknown): m is SharedMemory {
  if (typeof m !== 'object' || m === null) return false;
  try {
    return (m as { buffer?: unknown }).buffer instanceof SharedArrayBuffer && Object.prototype.toString.call(m) === '[object WebAssembly.Memory]';
  } catch {
    return false;
  }
}

/** One shared memory as this thread uses it (see the module comment). */
export class Domain extends MemoryViews implements WatchedThread {
  readonly memory: SharedMemory;
  readonly module: object;
  readonly id: number;
  readonly stackBytes = STACK_BYTES;
  /** The exports, each wrapped so that a trap ends in {@link Domain.afterTrap}. */
  readonly x: ThreadsExports;
  /** The exports as they are (boot, recovery). */
  readonly raw: ThreadsExports;
  /** This thread's id in the memory (native/wasm/thread_liveness.cc). */
  self = 0;
  port: WatchedThread['port'] = null;
  /** Set when a trap could not be recovered from: every later call throws. */
  lost = false;
  /** This thread's Thread (its I/O area first). */
  readonly thread: number;
  readonly stackTop: number;
  scratch = 0;
  scratchCapacity = 0;
  views = 0;

  constructor(module: object, memory: SharedMemory, id: number) {
    super();
    this.memory = memory;
    this.module = module;
    this.id = id;
    const instance = new wasmApi.Instance(module, { env: { memory } });
    this.raw = instance.exports as unknown as ThreadsExports;
    this.x = this.raw;
    this.refresh();
    // The id first, watched before this thread takes any lock (lib/wasm/sync-watcher.ts).
    this.self = this.raw.gomap_sync_claim_id();
    if (this.self === 0) throw noMemory('thread start');
    watch(this);
    const lock = this.x.gomap_sync_boot_lock() >>> 2;
    const words = this.i32;
    // Held for one short call; a thread terminated inside it would hold it for ever, so
    // the wait is bounded (an Error, not a hang).
    const deadline = Date.now() + BOOT_WAIT_MS;
    while (Atomics.compareExchange(words, lock, 0, 1) !== 0) {
      if (Date.now() > deadline) {
        throw new Error('SyncMap: another thread never finished starting on this shared memory (was it terminated while starting?)');
      }
      Atomics.wait(words, lock, 1, 50);
    }
    let top: number;
    try {
      top = this.x.gomap_sync_stack(STACK_BYTES, this.self);
    } finally {
      Atomics.store(words, lock, 0);
      Atomics.notify(words, lock, 1);
    }
    if (top === 0) throw noMemory('thread start');
    this.stackTop = top;
    this.x.__stack_pointer.value = top;
    this.thread = this.x.gomap_sync_thread_start();
    if (this.thread === 0) throw noMemory('thread start');
    this.refresh();
    this.x = guardedExports(this);
  }

  /**
   * What a call that trapped throws, after the thread recovered: a trap unwinds without
   * releasing what the call held (a lock, an epoch pin) nor restoring the stack pointer.
   * The stack pointer is reset, then the thread gives up its id and EBR record for new
   * ones (gomap_sync_thread_renew: what it held is broken for everyone, as if it had
   * died) and registers its new id with the watcher. A trap on a lock whose owner died
   * becomes ERR_GOMAP_POISONED; any other trap is rethrown as it is.
   */
  afterTrap(error: unknown): unknown {
    if (!(error instanceof (globalThis as unknown as { WebAssembly: { RuntimeError: new () => Error } }).WebAssembly.RuntimeError)) {
      return error;
    }
    this.raw.__stack_pointer.value = this.stackTop;
    const broken = this.raw.gomap_sync_take_broken() === 1;
    let renewed = false;
    try {
      renewed = this.raw.gomap_sync_thread_renew(this.thread) === 1;
    } catch {
      this.raw.__stack_pointer.value = this.stackTop;
    }
    if (renewed) {
      this.self = this.raw.gomap_sync_self();
      watch(this);
    } else {
      this.lost = true;
    }
    this.refresh();
    return broken ? poisoned(error) : error;
  }

  /** Set once the views span the memory's maximum: it cannot grow any more. */
  private whole = false;

  /**
   * Re-makes the views when memory has grown (in any thread). A memory of this module is
   * made whole at once (INITIAL_PAGES), so after the first call this returns at once:
   * reading `memory.buffer` of a shared memory costs about a quarter of a get.
   */
  refresh(): void {
    if (this.whole) return;
    const b = this.memory.buffer;
    if (this.u8 === undefined || this.u8.length !== b.byteLength) this.setViews(b);
    this.whole = b.byteLength >= MAX_PAGES * 65536;
  }

  /** The scratch buffer, with room for `bytes` bytes. */
  reserveScratch(bytes: number): number {
    if (bytes > this.scratchCapacity) {
      if (bytes > 0xffff_0000) throw noMemory('call');
      const at = this.x.gomap_sync_scratch(this.thread, bytes);
      this.refresh();
      if (at === 0) throw noMemory('call');
      this.scratch = at;
      this.scratchCapacity = Math.max(bytes, 4096);
    }
    return this.scratch;
  }

  // ---- Args ------------------------------------------------------------------------------

  /** A word Arg (f64 / i64): the 8 bytes travel in the Arg itself. */
  setWordTag(arg: number, tag: number): void {
    this.setBlob(arg, tag, 0, 8);
  }

}

/** One view: a SyncMap or a shared GoCache object of this thread. */
export interface ViewRecord {
  handle: number;
  domain: Domain;
  id: number;
  /** Address of the ConcurrentMap. */
  map: number;
  keyKind: number;
  valueKind: number;
  iterators: Map<number, number>;
  /** A view of a shared GoCache (lib/wasm/shared-cache-binding.ts), which the SyncMap calls refuse. */
  cache: boolean;
  /** A cache view's manual clock (ms; 0: the shared clock). */
  manualNow: number;
}

/** The SyncMap and shared GoCache functions of the WebAssembly engine. */
export type WasmSyncBinding = SyncBinding & SharedCacheBinding & { syncMemory(v: SyncViewHandle): unknown; scacheMemory(v: number): unknown };

/**
 * What lib/wasm/shared-cache-binding.ts builds the shared GoCache functions from: this
 * thread's domains and views table, and the key / value encoders of SyncMap.
 */
export interface SyncKit {
  homeDomain(): Domain;
  attachTo(memory: unknown, id: number, keyKind: number, valueKind: number, cache: boolean): [Domain, number];
  hookExit(): void;
  addView(domain: Domain, id: number, map: number, keyKind: number, valueKind: number, cache: boolean): number;
  lookUpView(v: unknown): ViewRecord | undefined;
  closeView(record: ViewRecord): void;
  bound(kind: number, role: 'key' | 'value', x: unknown, owner: string): number;
  write(d: Domain, kind: number, isKey: boolean, arg: number, at: number, x: unknown): number;
  readValue(d: Domain, kind: number, arg: number): unknown;
  blobValue(d: Domain, kind: number, tag: number, ptr: number, len: number): unknown;
  /** The façade's I/O area (lib/io-area.ts), as float64 and int64 cells. */
  ioF64: Float64Array;
  ioI64: BigInt64Array;
}

/**
 * A {@link SyncBinding} over the threads module at `file` (compiled on first use), with
 * the shared GoCache functions (lib/wasm/shared-cache-binding.ts).
 */
export function createWasmSyncBinding(file: string): WasmSyncBinding {
  let module: object | null = null;
  /** This thread's domains, by memory id. */
  const domains = new Map<number, Domain>();
  /** Where this thread's new maps go: its first domain. */
  let home: Domain | null = null;

  const slots: (ViewRecord | undefined)[] = [];
  const generations: number[] = [];
  const free: number[] = [];
  let liveViews = 0;
  let nextIterator = 1;
  /** Live iterators of this thread and the view each belongs to. */
  const iteratorOwners = new Map<number, ViewRecord>();

  const ioBuffer = new ArrayBuffer(64);
  const ioF64 = new Float64Array(ioBuffer);
  const ioI64 = new BigInt64Array(ioBuffer);
  const ioI32 = new Int32Array(ioBuffer);

  function compiled(): object {
    avoidLiftoff();
    module ??= new wasmApi.Module(readFileSync(file));
    return module;
  }

  function domainOf(memory: SharedMemory): Domain {
    const buffer = memory.buffer;
    if (buffer.byteLength < LINKED_PAGES * 65536 || new Uint32Array(buffer, 0, 1)[0] !== MEMORY_MAGIC) {
      throw typeError("SyncMap.attach: the handle's 'memory' is not the memory of a SyncMap");
    }
    const id = new Float64Array(buffer, 0, 2)[MEMORY_ID_INDEX]!;
    let d = domains.get(id);
    if (d === undefined) {
      d = new Domain(compiled(), memory, id);
      domains.set(id, d);
      home ??= d;
    }
    return d;
  }

  /** The domain of a handle's memory (undefined: this thread's home, null when it has none). */
  function domainFor(memory: unknown, owner: string): Domain | null {
    if (memory === undefined) return home;
    if (!isSharedMemory(memory)) {
      throw typeError(`${owner}.attach: the handle's 'memory' must be the shared WebAssembly.Memory of a ${owner} handle, got ${nativeTypeName(memory)}`);
    }
    return domainOf(memory);
  }

  function homeDomain(): Domain {
    if (home !== null) return home;
    const memory = new wasmApi.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared: true });
    const id = webcrypto.getRandomValues(new Uint32Array(2));
    new Float64Array(memory.buffer, 0, 2)[MEMORY_ID_INDEX] = id[0]! * 2 ** 21 + (id[1]! >>> 11) + 1;
    new Float64Array(memory.buffer, 0, MEMORY_CLOCK_INDEX + 1)[MEMORY_CLOCK_INDEX] = performance.timeOrigin + performance.now();
    new Uint32Array(memory.buffer, 0, 1)[0] = MEMORY_MAGIC;
    return domainOf(memory);
  }

  // ---- views --------------------------------------------------------------------------------

  function addView(domain: Domain, id: number, map: number, keyKind: number, valueKind: number, cache = false): number {
    const index = free.length > 0 ? free.pop()! : slots.length;
    if (index === slots.length) {
      slots.push(undefined);
      generations.push(1);
    }
    const handle = generations[index]! * TWO_32 + index;
    slots[index] = { handle, domain, id, map, keyKind, valueKind, iterators: new Map(), cache, manualNow: 0 };
    liveViews++;
    domain.views++;
    return handle;
  }

  function findView(v: unknown): ViewRecord {
    if (typeof v !== 'number') throw typeError(`SyncMap view handle must be a number, got ${nativeTypeName(v)}`);
    const record = slots[v >>> 0];
    if (record === undefined || record.handle !== v) throw viewClosed();
    if (record.cache) throw typeError('SyncMap view handle names a shared GoCache view: use the GoCache methods');
    record.domain.refresh();
    return record;
  }

  /** The open view `v` names, of either kind, or undefined (never throws). */
  function lookUpView(v: unknown): ViewRecord | undefined {
    if (typeof v !== 'number') return undefined;
    const record = slots[v >>> 0];
    return record === undefined || record.handle !== v ? undefined : record;
  }

  function removeView(record: ViewRecord): void {
    const index = record.handle >>> 0;
    slots[index] = undefined;
    const g = generations[index]! + 1;
    generations[index] = g >= MAX_GENERATION ? 1 : g;
    free.push(index);
    liveViews--;
    record.domain.views--;
  }

  function closeView(record: ViewRecord): void {
    const d = record.domain;
    for (const [it, ptr] of record.iterators) {
      d.x.gomap_sync_iter_end(d.thread, record.map, ptr);
      iteratorOwners.delete(it);
    }
    record.iterators.clear();
    removeView(record);
    d.x.gomap_sync_detach(d.thread, record.id);
  }

  /**
   * A new reference of this thread to map `id` of `memory` (this thread's home memory when
   * undefined), checked: the domain and the map's address. Throws ERR_GOMAP_CLOSED when no
   * live map has that id, TypeError when it has other kinds or is the other class (a shared
   * GoCache for SyncMap.attach, a SyncMap for GoCache.attach), RangeError when out of
   * memory. For a cache, its limits are in the thread's io.stats afterwards.
   */
  function attachTo(memory: unknown, id: number, kk: number, vk: number, cache: boolean): [Domain, number] {
    const owner = cache ? 'GoCache' : 'SyncMap';
    const what = cache ? 'cache' : 'map';
    const d = domainFor(memory, owner);
    hookExit();
    const map = d === null ? 0 : d.x.gomap_sync_attach(d.thread, id, kk, vk);
    if (map === 0 || d === null) {
      const e = closedError();
      e.message =
        `${owner} handle names no live ${what}: every view of that ${what} was closed before this attach ` +
        '(keep a view open until the other threads have attached), or the handle is forged';
      throw e;
    }
    if (map === ATTACH_NO_MEMORY) throw noMemory('attach');
    if (map === 1) {
      const actual = d.f64[(d.thread + IO_AUX) >>> 3]!;
      throw typeError(
        `${owner} handle says key kind '${KIND_NAMES[kk]}' and value kind '${KIND_NAMES[vk]}', but the ${what} has key kind '${KIND_NAMES[Math.floor(actual / 16)]}' and value kind '${KIND_NAMES[actual % 16]}'`,
      );
    }
    if ((d.x.gomap_scache_limits(d.thread, map) === 1) !== cache) {
      d.x.gomap_sync_detach(d.thread, id);
      throw typeError(
        cache
          ? 'GoCache.attach: the handle names a SyncMap, not a shared GoCache; use SyncMap.attach'
          : 'SyncMap.attach: the handle names a shared GoCache; use GoCache.attach',
      );
    }
    return [d, map];
  }

  // A worker that ends normally releases its views and its thread state. Not the main
  // thread: its end is the process's, and the memory goes with it.
  let exitHooked = isMainThread;
  function hookExit(): void {
    if (exitHooked) return;
    exitHooked = true;
    process.once('exit', () => {
      for (const r of slots) if (r !== undefined) closeView(r);
      for (const d of domains.values()) d.x.gomap_sync_thread_end(d.thread);
      domains.clear();
      home = null;
    });
  }

  // ---- keys and values -------------------------------------------------------------------

  /** Upper bound of the scratch bytes of a key / value of kind `kind` (checks its type). */
  function bound(kind: number, role: 'key' | 'value', x: unknown, owner = 'SyncMap'): number {
    switch (kind) {
      case K_F64:
        if (typeof x !== 'number') throw wrongKind(role, 'a number', 'f64', x, owner);
        return 0;
      case K_I64:
        if (typeof x !== 'bigint') throw wrongKind(role, 'a bigint', 'i64', x, owner);
        if (x < I64_MIN || x > I64_MAX) throw rangeError(`${owner} ${role} is outside the signed 64-bit range of ${role} kind 'i64'`);
        return 0;
      case K_STRING:
      case K_JSON:
        if (typeof x !== 'string') throw wrongKind(role, 'a string', KIND_NAMES[kind]!, x, owner);
        if (x.length > MAX_BLOB_BYTES) throw tooLong(role, KIND_NAMES[kind]!, x.length, owner);
        return (x.length * 2 + 7) & ~7;
      default: {
        // bytes, v8
        if (!isBytes(x)) throw wrongKind(role, 'a Uint8Array or Buffer', KIND_NAMES[kind]!, x, owner);
        const n = bytesLength(x);
        if (n > MAX_BLOB_BYTES) throw tooLong(role, KIND_NAMES[kind]!, n, owner);
        return (n + 7) & ~7;
      }
    }
  }

  /** Writes a checked key / value into the Arg at `arg` (bytes at `at`); returns bytes used. */
  function write(d: Domain, kind: number, isKey: boolean, arg: number, at: number, x: unknown): number {
    switch (kind) {
      case K_F64: {
        let n = x as number;
        if (isKey) {
          if (n !== n) {
            d.u32[arg >>> 2] = 0;
            d.u32[(arg >>> 2) + 1] = 0x7ff8_0000;
            d.setWordTag(arg, TAG_NUMBER);
            return 0;
          }
          if (n === 0) n = 0;
        }
        d.f64[arg >>> 3] = n;
        d.setWordTag(arg, TAG_NUMBER);
        return 0;
      }
      case K_I64:
        d.i64[arg >>> 3] = x as bigint;
        d.setWordTag(arg, TAG_BIGINT);
        return 0;
      case K_STRING:
      case K_JSON: {
        const n = d.writeString(arg, at, x as string);
        return (n + 7) & ~7;
      }
      default: {
        const bytes = x as Uint8Array;
        const n = bytesLength(bytes);
        d.u8.set(bytes, at);
        d.setBlob(arg, TAG_BYTES, at, n);
        return (n + 7) & ~7;
      }
    }
  }

  /** The value in the Arg at `arg` as the façade expects it. */
  function readValue(d: Domain, kind: number, arg: number): unknown {
    switch (kind) {
      case K_F64:
        return d.f64[arg >>> 3];
      case K_I64:
        return d.i64[arg >>> 3];
      default: {
        const i = arg >>> 2;
        const ptr = d.u32[i + 2]!;
        const len = d.u32[i + 3]!;
        const tag = d.u32[i + 4]!;
        if (kind === K_STRING || kind === K_JSON) return d.stringAt(tag, ptr, len);
        return Buffer.from(d.u8.subarray(ptr, ptr + len));
      }
    }
  }

  /** Writes key (and optionally value / old) into the I/O area of the view's domain. */
  function prepare(r: ViewRecord, key: unknown, value?: unknown, hasValue = false, old?: unknown, hasOld = false): Domain {
    const d = r.domain;
    const kb = bound(r.keyKind, 'key', key);
    const vb = hasValue ? bound(r.valueKind, 'value', value) : 0;
    const ob = hasOld ? bound(r.valueKind, 'value', old) : 0;
    let at = d.reserveScratch(kb + vb + ob);
    const io = d.thread;
    at += write(d, r.keyKind, true, io + IO_KEY, at, key);
    if (hasValue) at += write(d, r.valueKind, false, io + IO_VALUE, at, value);
    if (hasOld) write(d, r.valueKind, false, io + IO_OLD, at, old);
    return d;
  }

  /** The value in io.out after a call that returned `result` (1: a value is there). */
  function outValue(r: ViewRecord, result: number, what: string): unknown {
    const d = r.domain;
    d.refresh();
    if (result < 0) throw statusError(result, what);
    return result === 0 ? undefined : readValue(d, r.valueKind, d.thread + IO_OUT);
  }

  function get(v: SyncViewHandle, key: unknown): unknown {
    const r = findView(v);
    const d = prepare(r, key);
    return outValue(r, d.x.gomap_sync_get(d.thread, r.map), 'get');
  }

  function has(v: SyncViewHandle, key: unknown): boolean {
    const r = findView(v);
    const d = prepare(r, key);
    return d.x.gomap_sync_has(d.thread, r.map) !== 0;
  }

  function set(v: SyncViewHandle, key: unknown, value: unknown): boolean {
    const r = findView(v);
    const d = prepare(r, key, value, true);
    const result = d.x.gomap_sync_set(d.thread, r.map);
    d.refresh();
    if (result < 0) throw statusError(result, 'set');
    return result === 1;
  }

  // ---- fast calls through the façade's I/O area --------------------------------------------

  /** The view the I/O area names, with its key copied into io.key. */
  function fastView(): ViewRecord {
    const r = findView(ioF64[CELL_HANDLE]);
    const d = r.domain;
    const arg = d.thread + IO_KEY;
    if (r.keyKind === K_F64) {
      write(d, K_F64, true, arg, 0, ioF64[CELL_KEY]);
    } else {
      // The 8 bytes as two 32-bit halves: reading the BigInt64Array would make a BigInt.
      const at = arg >>> 2;
      d.i32[at] = ioI32[CELL_KEY * 2]!;
      d.i32[at + 1] = ioI32[CELL_KEY * 2 + 1]!;
      d.setWordTag(arg, TAG_BIGINT);
    }
    return r;
  }

  function fastGet(): unknown {
    const r = fastView();
    const d = r.domain;
    const result = d.x.gomap_sync_get(d.thread, r.map);
    d.refresh();
    if (result < 0) throw statusError(result, 'get');
    ioF64[CELL_RESULT] = result;
    if (result === 0) return undefined;
    const out = d.thread + IO_OUT;
    if (r.valueKind === K_F64) ioF64[CELL_VALUE] = d.f64[out >>> 3]!;
    else if (r.valueKind === K_I64) {
      ioI32[CELL_VALUE * 2] = d.i32[out >>> 2]!; // as halves, as the key (no BigInt made here)
      ioI32[CELL_VALUE * 2 + 1] = d.i32[(out >>> 2) + 1]!;
    }
    else return readValue(d, r.valueKind, out);
    return undefined;
  }

  function fastHas(): void {
    const r = fastView();
    ioF64[CELL_RESULT] = r.domain.x.gomap_sync_has(r.domain.thread, r.map);
  }

  function fastSet(value?: unknown): void {
    const r = findView(ioF64[CELL_HANDLE]);
    const d = r.domain;
    const inIo = r.valueKind === K_F64 || r.valueKind === K_I64;
    const x = inIo ? (r.valueKind === K_F64 ? ioF64[CELL_VALUE] : ioI64[CELL_VALUE]) : value;
    const at = d.reserveScratch(bound(r.valueKind, 'value', x));
    fastView();
    write(d, r.valueKind, false, d.thread + IO_VALUE, at, x);
    const result = d.x.gomap_sync_set(d.thread, r.map);
    d.refresh();
    if (result < 0) throw statusError(result, 'set');
    ioF64[CELL_RESULT] = result;
  }

  // ---- iteration ---------------------------------------------------------------------------

  function iterNext(v: SyncViewHandle, it: SyncIteratorHandle, max: number, keysOnly?: boolean): unknown[] {
    const r = findView(v);
    if (typeof it !== 'number') throw typeError(`SyncMap iterator handle must be a number, got ${nativeTypeName(it)}`);
    if (typeof max !== 'number') throw typeError(`SyncMap iterNext batch size must be a number, got ${nativeTypeName(max)}`);
    const owner = iteratorOwners.get(it);
    if (owner === undefined) return [];
    if (owner !== r) throw typeError('SyncMap iterator handle belongs to another view');
    const ptr = r.iterators.get(it)!;
    const d = r.domain;
    const batch = Math.max(1, Math.min(MAX_BATCH, Math.floor(max) || 1));
    const only = keysOnly === true;
    const count = d.x.gomap_sync_iter_next(d.thread, r.map, ptr, batch, only ? 1 : 0);
    d.refresh();
    if (count < 0) {
      endIterator(r, it);
      throw noMemory('iteration');
    }
    const flat = new Array<unknown>(only ? count : 2 * count);
    const u32 = d.u32;
    let at = u32[((d.thread + IO_OUT) >>> 2) + 2]!;
    for (let i = 0; i < count; i++) {
      at = (at + 7) & ~7;
      const h = at >>> 2;
      const keyTag = u32[h]!;
      const keyLen = u32[h + 1]!;
      const valueTag = u32[h + 2]!;
      const valueLen = u32[h + 3]!;
      const keyAt = at + 16;
      flat[only ? i : 2 * i] = blobValue(d, r.keyKind, keyTag, keyAt, keyLen);
      if (!only) flat[2 * i + 1] = blobValue(d, r.valueKind, valueTag, keyAt + keyLen, valueLen);
      at = keyAt + keyLen + valueLen;
    }
    if (count < batch) endIterator(r, it);
    return flat;
  }

  function blobValue(d: Domain, kind: number, tag: number, ptr: number, len: number): unknown {
    switch (kind) {
      case K_F64:
        return new Float64Array(d.u8.slice(ptr, ptr + 8).buffer)[0];
      case K_I64:
        return new BigInt64Array(d.u8.slice(ptr, ptr + 8).buffer)[0];
      case K_STRING:
      case K_JSON:
        return d.stringAt(tag, ptr, len);
      default:
        return Buffer.from(d.u8.subarray(ptr, ptr + len));
    }
  }

  function endIterator(r: ViewRecord, it: number): boolean {
    const ptr = r.iterators.get(it);
    if (ptr === undefined) return false;
    r.iterators.delete(it);
    iteratorOwners.delete(it);
    r.domain.x.gomap_sync_iter_end(r.domain.thread, r.map, ptr);
    return true;
  }

  /** A column of the packed form: numbers as a typed array, strings joined with lengths. */
  function column(kind: number, items: unknown[], count: number, stride: number, offset: number): [Float64Array | BigInt64Array | Uint32Array, string | undefined] {
    if (kind === K_F64) {
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) a[i] = items[i * stride + offset] as number;
      return [a, undefined];
    }
    if (kind === K_I64) {
      const a = new BigInt64Array(count);
      for (let i = 0; i < count; i++) a[i] = items[i * stride + offset] as bigint;
      return [a, undefined];
    }
    const lengths = new Uint32Array(count);
    let text = '';
    for (let i = 0; i < count; i++) {
      const s = items[i * stride + offset] as string;
      lengths[i] = s.length;
      text += s;
    }
    return [lengths, text];
  }

  function iterNextPacked(v: SyncViewHandle, it: SyncIteratorHandle, max: number, keysOnly: boolean): SyncPackedBatch {
    const r = findView(v);
    if (r.keyKind === K_BYTES || (!keysOnly && (r.valueKind === K_BYTES || r.valueKind === 5))) {
      throw typeError('SyncMap packed iteration needs f64 / i64 / string keys and f64 / i64 / string / json values');
    }
    const batch = Math.max(1, Math.min(MAX_BATCH, Math.floor(max) || 1));
    const flat = iterNext(v, it, batch, keysOnly);
    const stride = keysOnly ? 1 : 2;
    const count = flat.length / stride;
    const [keys, keyText] = column(r.keyKind, flat, count, stride, 0);
    let values: Float64Array | BigInt64Array | Uint32Array | undefined;
    let valueText: string | undefined;
    if (!keysOnly) [values, valueText] = column(r.valueKind, flat, count, stride, 1);
    return [count, count < batch, keys, values, keyText, valueText];
  }

  // ---- the binding -----------------------------------------------------------------------------

  function kindCode<T extends string>(codes: Record<T, number>, kind: unknown, what: string): number {
    if (typeof kind === 'string' && Object.prototype.hasOwnProperty.call(codes, kind)) return codes[kind as T];
    throw typeError(`SyncMap ${what} kind must be one of ${Object.keys(codes).map((k) => `'${k}'`).join(', ')}`);
  }

  const binding: SyncBinding & { syncMemory(v: SyncViewHandle): unknown } = {
    syncCreate(key, value, hint, seed) {
      const kk = kindCode(KEY_CODES, key, 'key');
      const vk = kindCode(VALUE_CODES, value, 'value');
      if (typeof hint !== 'number') throw typeError(`SyncMap hint must be a number, got ${nativeTypeName(hint)}`);
      if (!(hint >= 0 && hint <= Number.MAX_SAFE_INTEGER) || Math.floor(hint) !== hint) {
        throw rangeError('SyncMap hint must be an integer from 0 to 2^53 - 1');
      }
      const [lo, hi] = seedWords(seed, 'SyncMap');
      const d = homeDomain();
      hookExit();
      const id = d.x.gomap_sync_create(d.thread, kk, vk, hint, lo, hi);
      d.refresh();
      if (id < 0) throw statusError(id, 'hint');
      const map = d.x.gomap_sync_attach(d.thread, id, kk, vk);
      if (map === ATTACH_NO_MEMORY) {
        d.x.gomap_sync_detach(d.thread, id);
        throw noMemory('create');
      }
      d.x.gomap_sync_detach(d.thread, id); // the view addView makes holds the creation's reference
      return [addView(d, id, map, kk, vk), id];
    },

    syncAttach(id, key, value, memory?: unknown) {
      if (typeof id !== 'number') throw typeError(`SyncMap handle id must be a number, got ${nativeTypeName(id)}`);
      const kk = kindCode(KEY_CODES, key, 'key');
      const vk = kindCode(VALUE_CODES, value, 'value');
      const [d, map] = attachTo(memory, id, kk, vk, false);
      return addView(d, id, map, kk, vk);
    },

    syncMemory(v) {
      return findView(v).domain.memory;
    },

    syncClose(v) {
      if (typeof v !== 'number') return false;
      const r = slots[v >>> 0];
      if (r === undefined || r.handle !== v) return false;
      closeView(r);
      return true;
    },

    syncGet: get,
    syncHas: has,
    syncSet: set,

    syncDelete(v, key) {
      const r = findView(v);
      const d = prepare(r, key);
      return d.x.gomap_sync_delete(d.thread, r.map, 0) === 1;
    },

    syncGetMany(v, keys) {
      findView(v);
      if (!Array.isArray(keys)) throw typeError(`SyncMap getMany keys must be an array, got ${nativeTypeName(keys)}`);
      const r = findView(v);
      for (const k of keys) bound(r.keyKind, 'key', k);
      return keys.map((k) => get(v, k));
    },

    syncSetMany(v, keys, values) {
      const r = findView(v);
      if (!Array.isArray(keys) || !Array.isArray(values)) throw typeError('SyncMap setMany needs arrays of keys and values');
      const n = keys.length;
      if (values.length !== n) throw typeError(`SyncMap setMany needs as many values as keys (${n} keys, ${values.length} values)`);
      let bytes = 2 * n * ARG_BYTES;
      for (let i = 0; i < n; i++) bytes += bound(r.keyKind, 'key', keys[i]) + bound(r.valueKind, 'value', values[i]);
      const d = r.domain;
      const base = d.reserveScratch(bytes);
      const keyArgs = base;
      const valueArgs = base + n * ARG_BYTES;
      let at = base + 2 * n * ARG_BYTES;
      for (let i = 0; i < n; i++) {
        at += write(d, r.keyKind, true, keyArgs + i * ARG_BYTES, at, keys[i]);
        at += write(d, r.valueKind, false, valueArgs + i * ARG_BYTES, at, values[i]);
      }
      const result = d.x.gomap_sync_set_many(d.thread, r.map, n, keyArgs, valueArgs);
      d.refresh();
      if (result < 0) throw statusError(result, 'setMany');
      return result;
    },

    syncLoadOrStore(v, key, value) {
      const r = findView(v);
      const d = prepare(r, key, value, true);
      return outValue(r, d.x.gomap_sync_load_or_store(d.thread, r.map), 'loadOrStore');
    },

    syncLoadAndDelete(v, key) {
      const r = findView(v);
      const d = prepare(r, key);
      return outValue(r, d.x.gomap_sync_delete(d.thread, r.map, 1), 'loadAndDelete');
    },

    syncSwap(v, key, value) {
      const r = findView(v);
      const d = prepare(r, key, value, true);
      return outValue(r, d.x.gomap_sync_swap(d.thread, r.map), 'swap');
    },

    syncCompareAndSwap(v, key, old, value) {
      const r = findView(v);
      const d = prepare(r, key, value, true, old, true);
      const result = d.x.gomap_sync_compare_and_swap(d.thread, r.map);
      d.refresh();
      if (result < 0) throw statusError(result, 'compareAndSwap');
      return result === 1;
    },

    syncCompareAndDelete(v, key, old) {
      const r = findView(v);
      const d = prepare(r, key, undefined, false, old, true);
      return d.x.gomap_sync_compare_and_delete(d.thread, r.map) === 1;
    },

    syncClear(v) {
      const r = findView(v);
      r.domain.x.gomap_sync_clear(r.domain.thread, r.map);
    },

    syncSize(v) {
      const r = findView(v);
      return r.domain.x.gomap_sync_size(r.map);
    },

    syncStats(v): MapStats {
      const r = findView(v);
      const d = r.domain;
      d.x.gomap_sync_stats(d.thread, r.map);
      d.refresh();
      return mapStatsAt(d.f64, (d.thread + IO_STATS) >>> 3);
    },

    syncIterStart(v) {
      const r = findView(v);
      const ptr = r.domain.x.gomap_sync_iter_start(r.domain.thread, r.map);
      r.domain.refresh();
      if (ptr === 0) throw noMemory('iterator');
      const it = nextIterator++;
      r.iterators.set(it, ptr);
      iteratorOwners.set(it, r);
      return it;
    },

    syncIterNext: iterNext,
    syncIterNextPacked: iterNextPacked,

    syncIterEnd(v, it) {
      if (typeof v !== 'number') return false;
      const r = slots[v >>> 0];
      if (r === undefined || r.handle !== v || typeof it !== 'number') return false;
      return endIterator(r, it);
    },

    syncFastGet: fastGet,
    syncFastHas: fastHas,
    syncFastSet: fastSet,
    io: ioBuffer,

    syncLiveHandles() {
      // Maps and retired objects of every shared memory this thread knows.
      let maps = 0;
      let retired = 0;
      let heapPages = 0;
      for (const d of domains.values()) {
        maps += d.x.gomap_sync_live_maps();
        retired += d.x.gomap_sync_pending();
        heapPages += d.x.gomap_sync_heap_pages();
      }
      return { views: liveViews, iterators: iteratorOwners.size, maps, retired, heapPages };
    },
  };

  if (process.env.GOMAP_TESTING === '1') {
    binding.syncTestingFailNthAllocation = (n: number): void => {
      homeDomain().x.gomap_sync_fail_nth_allocation(n);
    };
    binding.syncTestingCollect = (): number => {
      const d = homeDomain();
      return d.x.gomap_sync_collect(d.thread);
    };
    binding.syncTestingHoldWriteLock = (v: SyncViewHandle, flagIndex: number): void => {
      const r = findView(v);
      r.domain.x.gomap_sync_testing_hold_write_lock(r.domain.thread, r.map, flagIndex * 4);
    };
    binding.syncTestingHeapStress = (v: SyncViewHandle, seed: number, rounds: number): number => {
      return findView(v).domain.x.gomap_sync_testing_heap_stress(seed, rounds);
    };
    binding.syncTestingLockStress = (v: SyncViewHandle, rounds: number): number => {
      const r = findView(v);
      return r.domain.x.gomap_sync_testing_lock_stress(r.map, rounds);
    };
    binding.syncTestingLockCount = (v: SyncViewHandle): number => findView(v).domain.x.gomap_sync_testing_lock_count();
  }
  const kit: SyncKit = {
    homeDomain,
    attachTo,
    hookExit,
    addView,
    lookUpView,
    closeView,
    bound,
    write,
    readValue,
    blobValue,
    ioF64,
    ioI64,
  };
  return Object.assign(binding, createWasmSharedCacheFunctions(kit));
}

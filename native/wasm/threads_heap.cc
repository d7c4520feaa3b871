// The allocator and the C library pieces of the WebAssembly threads build
// (wasm/gomap-threads.wasm, the SyncMap engine): malloc / calloc / realloc / free,
// memcpy / memmove / memset / memcmp, for every thread that instantiates the module over
// one shared linear memory.
//
// Why not wasi-libc's: its prebuilt objects are not compiled with the atomics feature, so
// lld refuses to link them into a module with shared memory, and its dlmalloc is not
// thread-safe anyway. This build is freestanding (-nostdlib); bulk memory instructions
// (memory.copy / memory.fill) do the byte work.
//
// Design: linear memory above __heap_base is cut into 64 KiB pages (the wasm page, so
// memory.grow hands out whole pages). A side table says what each page is:
//
//   small page   holds blocks of one size class (16, 32, ..., 32768 bytes: powers of
//                two). A block is aligned to its size (pages are 64 KiB-aligned), so
//                over-aligned C++ objects (alignas(64)) need nothing special. Freed blocks
//                go on their class's free list and are reused by that class only.
//   large block  a run of whole pages (more than 32 KiB asked), its page count in a
//                second side table. Freed runs go on one list and are reused best-fit
//                (split when the rest is at least a page); a run that ends at the top of
//                the used pages lowers the top instead, so a table that grows and frees
//                its predecessor reuses that space. Runs are not merged with free
//                neighbours (a known limit: freed space of many different sizes may
//                stay unused; linear memory never shrinks anyway).
//
// One lock (lock.h's futex word) guards everything; the maps allocate outside their hot
// read paths, so contention is writers'. Failure (memory.grow refused: the module's
// maximum reached) returns nullptr, which the core turns into kNoMemory: never a trap.
//
// A thread terminated while it holds the heap lock (thread_liveness.cc) leaves the free
// lists in an unknown state. The next caller takes the lock over and drops every free
// list (what they held is leaked): the side tables of live blocks and the top are right
// at every step (a block is marked before it is handed out, and one the dead thread was
// taking or giving back is just lost), so allocation from the top goes on.
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/lock.h"

extern "C" unsigned char __heap_base;

namespace {

constexpr uint32_t kPageShift = 16;
constexpr uint32_t kPageBytes = uint32_t{1} << kPageShift;
constexpr uint32_t kMaxPages = 65536;  // 4 GiB of wasm32
constexpr uint32_t kMinClassShift = 4;  // 16 bytes
constexpr uint32_t kClassCount = 12;    // 16 .. 32768
constexpr size_t kMaxSmall = size_t{1} << (kMinClassShift + kClassCount - 1);

// What a page is (kPageKind): 0 not the heap's, 1 + class: small page, kLargeHead: the
// first page of a large run (its length in g_runPages).
constexpr uint8_t kLargeHead = 0xff;

struct FreeBlock {
  FreeBlock* next;
};
struct FreeRun {
  FreeRun* next;
  uint32_t pages;
};

gomap::Mutex g_lock;
uint8_t g_pageKind[kMaxPages];
uint32_t g_runPages[kMaxPages];
FreeBlock* g_free[kClassCount];
FreeRun* g_runs = nullptr;
uint32_t g_firstPage = 0;  // 0: not set up yet
uint32_t g_top = 0;        // first page never handed out

uint32_t pageOf(const void* p) { return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(p) >> kPageShift); }
void* pageAddress(uint32_t page) { return reinterpret_cast<void*>(static_cast<uintptr_t>(page) << kPageShift); }

void setUp() {
  if (g_firstPage != 0) return;
  const uintptr_t base = reinterpret_cast<uintptr_t>(&__heap_base);
  g_firstPage = static_cast<uint32_t>((base + kPageBytes - 1) >> kPageShift);
  g_top = g_firstPage;
}

// A run of `pages` pages: reused best-fit, else from the top (growing memory). Lock held.
void* takeRun(uint32_t pages) {
  FreeRun** best = nullptr;
  for (FreeRun** at = &g_runs; *at != nullptr; at = &(*at)->next) {
    if ((*at)->pages >= pages && (best == nullptr || (*at)->pages < (*best)->pages)) best = at;
  }
  if (best != nullptr) {
    FreeRun* run = *best;
    *best = run->next;
    const uint32_t first = pageOf(run);
    const uint32_t rest = run->pages - pages;
    if (rest != 0) {
      auto* tail = static_cast<FreeRun*>(pageAddress(first + pages));
      tail->pages = rest;
      tail->next = g_runs;
      g_runs = tail;
      g_pageKind[first + pages] = kLargeHead;
      g_runPages[first + pages] = rest;
    }
    g_runPages[first] = pages;
    return run;
  }
  if (pages > kMaxPages - g_top) return nullptr;
  const uint32_t have = static_cast<uint32_t>(__builtin_wasm_memory_size(0));
  if (g_top + pages > have) {
    const uint32_t need = g_top + pages - have;
    if (__builtin_wasm_memory_grow(0, need) == static_cast<size_t>(-1)) return nullptr;
  }
  const uint32_t first = g_top;
  g_top += pages;
  g_runPages[first] = pages;
  return pageAddress(first);
}

void giveRun(void* p) {
  const uint32_t first = pageOf(p);
  const uint32_t pages = g_runPages[first];
  if (first + pages == g_top) {
    g_top = first;
    g_pageKind[first] = 0;
    return;
  }
  g_pageKind[first] = kLargeHead;
  auto* run = static_cast<FreeRun*>(p);
  run->pages = pages;
  run->next = g_runs;
  g_runs = run;
}

uint32_t classOf(size_t bytes) {
  uint32_t c = 0;
  while ((size_t{1} << (kMinClassShift + c)) < bytes) ++c;
  return c;
}

void* allocateLocked(size_t bytes) {
  setUp();
  if (bytes == 0) bytes = 1;
  if (bytes <= kMaxSmall) {
    const uint32_t c = classOf(bytes);
    if (g_free[c] == nullptr) {
      void* page = takeRun(1);
      if (page == nullptr) return nullptr;
      g_pageKind[pageOf(page)] = static_cast<uint8_t>(1 + c);
      const size_t size = size_t{1} << (kMinClassShift + c);
      auto* bytesOfPage = static_cast<uint8_t*>(page);
      for (size_t off = kPageBytes; off >= size; off -= size) {
        auto* b = reinterpret_cast<FreeBlock*>(bytesOfPage + off - size);
        b->next = g_free[c];
        g_free[c] = b;
      }
    }
    FreeBlock* b = g_free[c];
    g_free[c] = b->next;
    return b;
  }
  if (bytes > size_t{kMaxPages} * kPageBytes - kPageBytes) return nullptr;
  const uint32_t pages = static_cast<uint32_t>((bytes + kPageBytes - 1) >> kPageShift);
  void* run = takeRun(pages);
  if (run != nullptr) g_pageKind[pageOf(run)] = kLargeHead;
  return run;
}

// Usable bytes of a live block (0 for a pointer the heap did not hand out).
size_t blockSize(const void* p) {
  const uint8_t kind = g_pageKind[pageOf(p)];
  if (kind == 0) return 0;
  if (kind == kLargeHead) return size_t{g_runPages[pageOf(p)]} << kPageShift;
  return size_t{1} << (kMinClassShift + kind - 1);
}

void freeLocked(void* p) {
  const uint8_t kind = g_pageKind[pageOf(p)];
  if (kind == 0) return;  // not ours: ignore rather than corrupt
  if (kind == kLargeHead) {
    giveRun(p);
    return;
  }
  auto* b = static_cast<FreeBlock*>(p);
  b->next = g_free[kind - 1];
  g_free[kind - 1] = b;
}

// The heap lock for one call, taken over from an owner that died (see the header comment).
class HeapLock {
 public:
  HeapLock() noexcept {
    if (g_lock.lockOrTakeOver()) {
      for (FreeBlock*& head : g_free) head = nullptr;
      g_runs = nullptr;
    }
  }
  ~HeapLock() { g_lock.unlock(); }
  HeapLock(const HeapLock&) = delete;
  HeapLock& operator=(const HeapLock&) = delete;
};

}  // namespace

extern "C" {

void* malloc(size_t bytes) {
  HeapLock lock;
  return allocateLocked(bytes);
}

void free(void* p) {
  if (p == nullptr) return;
  HeapLock lock;
  freeLocked(p);
}

void* calloc(size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size) return nullptr;
  void* p = malloc(n * size);
  if (p != nullptr) __builtin_memset(p, 0, n * size);
  return p;
}

void* realloc(void* p, size_t bytes) {
  if (p == nullptr) return malloc(bytes);
  size_t have;
  {
    HeapLock lock;
    have = blockSize(p);
  }
  if (bytes != 0 && bytes <= have) return p;
  void* fresh = malloc(bytes);
  if (fresh == nullptr) return nullptr;
  __builtin_memcpy(fresh, p, have < bytes ? have : bytes);
  free(p);
  return fresh;
}

// memory.copy / memory.fill (bulk memory): these builtins compile to one instruction, never
// to a call of the function being defined.
void* memcpy(void* dst, const void* src, size_t n) {
  __builtin_memcpy(dst, src, n);
  return dst;
}
void* memmove(void* dst, const void* src, size_t n) {
  __builtin_memmove(dst, src, n);
  return dst;
}
void* memset(void* dst, int c, size_t n) {
  __builtin_memset(dst, c, n);
  return dst;
}
int memcmp(const void* a, const void* b, size_t n) {
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  for (size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

}  // extern "C"

// Over-aligned C++ objects (ConcurrentMap and ebr::ThreadRecord are alignas(64)): a block
// of a power-of-two class is aligned to its size and a large run to 64 KiB, so asking for
// at least `align` bytes is enough. runtime.cc has the plain forms.
#include <new>

void* operator new(std::size_t bytes, std::align_val_t align, const std::nothrow_t&) noexcept {
  const size_t a = static_cast<size_t>(align);
  return malloc(bytes < a ? a : bytes);
}
void* operator new(std::size_t bytes, std::align_val_t align) {
  const size_t a = static_cast<size_t>(align);
  return malloc(bytes < a ? a : bytes);
}
void operator delete(void* p, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { free(p); }

// Pages below the heap's top: how far the allocator has reached into linear memory (tests
// check that memory is reused; the memory itself is created at its maximum size and
// never grows, see lib/wasm/sync-binding.ts).
extern "C" __attribute__((export_name("gomap_sync_heap_pages"))) uint32_t gomap_sync_heap_pages() {
  HeapLock lock;
  return g_top;
}

// Test hook: `rounds` random malloc / realloc / free calls over 64 slots (sizes in every
// class and in page runs), each block filled with a pattern of its own and checked before
// it is freed or reallocated (and what realloc kept checked after). Run by several threads
// of one memory at once, it checks the allocator's lock and its page tables under
// contention. 0: all good; 1 malloc failed, 2 a block changed under its owner, 3 realloc
// failed, 4 realloc lost bytes.
extern "C" __attribute__((export_name("gomap_sync_testing_heap_stress")))
int32_t gomap_sync_testing_heap_stress(uint32_t seed, uint32_t rounds) {
  constexpr int kSlots = 64;
  uint8_t* blocks[kSlots] = {};
  uint32_t sizes[kSlots] = {};
  uint8_t tags[kSlots] = {};
  uint64_t x = (uint64_t{seed} + 1) * 0x9E3779B97F4A7C15ull;
  auto next = [&x]() {  // xorshift64
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<uint32_t>(x >> 32);
  };
  auto size = [&next]() -> uint32_t {
    const uint32_t r = next() % 100;
    if (r < 60) return 1 + next() % 256;
    if (r < 90) return 1 + next() % 40000;
    return 1 + next() % 300000;
  };
  auto fill = [&](int s, uint32_t from) {
    for (uint32_t k = from; k < sizes[s]; ++k) blocks[s][k] = static_cast<uint8_t>(tags[s] + k);
  };
  auto intact = [&](int s, uint32_t upTo) {
    for (uint32_t k = 0; k < upTo; ++k) {
      if (blocks[s][k] != static_cast<uint8_t>(tags[s] + k)) return false;
    }
    return true;
  };
  int32_t result = 0;
  for (uint32_t i = 0; i < rounds && result == 0; ++i) {
    const int s = static_cast<int>(next() % kSlots);
    if (blocks[s] == nullptr) {
      sizes[s] = size();
      blocks[s] = static_cast<uint8_t*>(malloc(sizes[s]));
      if (blocks[s] == nullptr) {
        result = 1;
        break;
      }
      tags[s] = static_cast<uint8_t>(next());
      fill(s, 0);
      continue;
    }
    if (!intact(s, sizes[s])) {
      result = 2;
      break;
    }
    if (next() % 2 == 0) {
      free(blocks[s]);
      blocks[s] = nullptr;
      continue;
    }
    const uint32_t n = size();
    auto* p = static_cast<uint8_t*>(realloc(blocks[s], n));
    if (p == nullptr) {
      result = 3;
      break;
    }
    const uint32_t kept = n < sizes[s] ? n : sizes[s];
    blocks[s] = p;
    sizes[s] = n;
    if (!intact(s, kept)) {
      result = 4;
      break;
    }
    fill(s, kept);
  }
  for (int s = 0; s < kSlots; ++s) free(blocks[s]);
  return result;
}

// libFuzzer target for the concurrent core: ConcurrentMap driven by 2-3 threads at once.
//
// Build and run: `npm run test:fuzz` runs it after go_map_fuzz (scripts/fuzz.sh; alone:
// `bash scripts/fuzz.sh --concurrent [seconds]`; clang-14, -fsanitize=fuzzer,address,
// undefined; seeds in native/fuzz/corpus/concurrent_map/).
//
// Input (FuzzedDataProvider, so every byte string is valid):
//   header   threads (2 or 3), hash mode (normal, 8 chains, one chain), hint;
//   phases   up to 4: per thread, a slice of bytes decoded into that thread's operations;
//            then a between-phase action: nothing, clear(), reserve(n) (n up to 2^14,
//            on an empty map it grows at once), or clear() + reserve(n).
// The threads of a phase start together (a spin barrier) and run their operations
// concurrently; the main thread joins them, checks the whole map, runs the action.
//
// Keys: thread t owns the private keys {'p', t, i} (i < 256; every fourth is long, 40-300
// bytes, so boxed and freed paths run); all threads share {'s', i} (i < 8). Only thread t
// writes its private keys, so its std::unordered_map model is exact and every result on
// them is checked exactly (found, loaded, previous value, swapped, deleted). Shared keys
// race: a value read for one must be well formed and written by some thread (a value
// {t, seq, len, filler(t, seq)} with seq below what thread t had issued), which catches
// torn, stale-freed (ASan) and mixed-up entries.
//
// Operations: store, load, contains, erase, loadOrStore, swap, compareAndSwap (with the
// right or a wrong expected value), compareAndDelete, loadAndDelete, loadMany, and an
// iteration (small batches) that deletes own keys as it goes, ahead of and at the cursor:
// own keys present throughout are produced exactly once, deleted ones are not produced
// after their deletion, every produced value is well formed and of its key's owner.
// After each phase (threads joined): every model key loads its value, size() equals the
// union of the models plus the shared keys present, a full iteration produces exactly
// that set. A failed check prints a line and aborts (libFuzzer saves the input).
#include <fuzzer/FuzzedDataProvider.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/concurrent_map.h"

namespace {

using namespace gomap;

[[noreturn]] void failCheck(const char* what, int line) {
  std::fprintf(stderr, "concurrent_map fuzz: check failed at line %d: %s\n", line, what);
  std::abort();
}
#define FUZZ_CHECK(cond)                     \
  do {                                       \
    if (!(cond)) failCheck(#cond, __LINE__); \
  } while (0)

constexpr unsigned kMaxThreads = 3;
constexpr unsigned kPrivateKeys = 256;
constexpr unsigned kSharedKeys = 8;

uint64_t eightChains(uint64_t h) { return (h & 0xff00000000000000ull) | (h & 7); }
uint64_t oneChain(uint64_t h) { return h & 0xff00000000000000ull; }

std::string privateKey(unsigned t, unsigned i) {
  std::string k{'p', static_cast<char>(t), static_cast<char>(i)};
  if (i % 4 == 0) k.append(40 + i, static_cast<char>('a' + i % 26));  // long: boxed
  return k;
}
std::string sharedKey(unsigned i) { return std::string{'s', static_cast<char>(i)}; }

// Values: t, seq (4 bytes LE), then filler bytes that depend on (t, seq, position).
uint8_t filler(unsigned t, uint32_t seq, size_t pos) { return static_cast<uint8_t>(t * 31 + seq * 7 + pos * 13); }
std::string makeValue(unsigned t, uint32_t seq, size_t len) {
  std::string v(5 + len, '\0');
  v[0] = static_cast<char>(t);
  std::memcpy(&v[1], &seq, 4);
  for (size_t i = 5; i < v.size(); i++) v[i] = static_cast<char>(filler(t, seq, i));
  return v;
}

std::atomic<uint32_t> g_issued[kMaxThreads];  // values issued so far, per thread

// A value read from the map: well formed and issued by its writer (owner: the thread
// that must have written it, or -1 for any).
void checkValue(const Blob& v, int owner) {
  FUZZ_CHECK(v.tag == kTagBytes);
  FUZZ_CHECK(v.len >= 5);
  unsigned t = v.data[0];
  FUZZ_CHECK(t < kMaxThreads);
  FUZZ_CHECK(owner < 0 || static_cast<unsigned>(owner) == t);
  uint32_t seq;
  std::memcpy(&seq, v.data + 1, 4);
  FUZZ_CHECK(seq < g_issued[t].load(std::memory_order_acquire));
  for (size_t i = 5; i < v.len; i++) FUZZ_CHECK(v.data[i] == filler(t, seq, i));
}

Blob blob(const std::string& s) { return Blob{kTagBytes, reinterpret_cast<const uint8_t*>(s.data()), static_cast<uint32_t>(s.size())}; }
std::string str(const Blob& b) { return std::string(reinterpret_cast<const char*>(b.data), b.len); }

// Who owns a key produced by iteration: thread t, or -1 for a shared key.
int ownerOf(const Blob& k) {
  FUZZ_CHECK(k.tag == kTagBytes && k.len >= 2);
  if (k.data[0] == 's') {
    FUZZ_CHECK(k.len == 2 && k.data[1] < kSharedKeys);
    return -1;
  }
  FUZZ_CHECK(k.data[0] == 'p' && k.len >= 3 && k.data[1] < kMaxThreads);
  FUZZ_CHECK(str(k) == privateKey(k.data[1], k.data[2]));
  return k.data[1];
}

enum OpKind : uint8_t {
  kStore, kLoad, kContains, kErase, kLoadOrStore, kSwap, kCas, kCad, kLoadAndDelete, kLoadMany, kIterate, kOpKinds
};

struct Op {
  uint8_t kind;
  bool shared;
  uint8_t key;
  uint8_t arg;  // value length selector / wrong-expected flag / iteration pattern
};

using Model = std::unordered_map<std::string, std::string>;

struct Worker {
  unsigned t;
  std::vector<Op> ops;
  Model model;  // this thread's private keys
  std::string lastShared[kSharedKeys];  // last value seen or written per shared key

  std::string nextValue(uint8_t arg) {
    size_t len = arg % 8 == 7 ? 200 + arg : arg % 24;
    uint32_t seq = g_issued[t].fetch_add(1, std::memory_order_acq_rel);
    return makeValue(t, seq, len);
  }

  void run(ConcurrentMap& map, ebr::ThreadRecord& rec) {
    for (const Op& op : ops) step(map, rec, op);
  }

  void step(ConcurrentMap& map, ebr::ThreadRecord& rec, const Op& op) {
    const unsigned idx = op.shared ? op.key % kSharedKeys : op.key;
    const std::string key = op.shared ? sharedKey(idx) : privateKey(t, idx);
    const int owner = op.shared ? -1 : static_cast<int>(t);
    auto it = model.find(key);
    const bool present = !op.shared && it != model.end();
    switch (op.kind) {
      case kStore: {
        std::string v = nextValue(op.arg);
        bool inserted = false;
        FUZZ_CHECK(map.store(rec, blob(key), blob(v), &inserted) == Status::kOk);
        if (!op.shared) {
          FUZZ_CHECK(inserted == !present);
          model[key] = v;
        } else {
          lastShared[idx] = v;
        }
        break;
      }
      case kLoad: {
        std::string got;
        bool found = map.load(rec, blob(key), [&](Blob v) {
          checkValue(v, owner);
          got = str(v);
        });
        if (!op.shared) {
          FUZZ_CHECK(found == present);
          if (found) FUZZ_CHECK(got == it->second);
        } else if (found) {
          lastShared[idx] = got;
        }
        break;
      }
      case kContains: {
        bool found = map.contains(rec, blob(key));
        if (!op.shared) FUZZ_CHECK(found == present);
        break;
      }
      case kErase: {
        bool erased = map.erase(rec, blob(key));
        if (!op.shared) {
          FUZZ_CHECK(erased == present);
          model.erase(key);
        }
        break;
      }
      case kLoadOrStore: {
        std::string v = nextValue(op.arg);
        std::string existing;
        bool loaded = false;
        Status s = map.loadOrStore(rec, blob(key), blob(v), [&](Blob cur) {
          checkValue(cur, owner);
          existing = str(cur);
        }, &loaded);
        FUZZ_CHECK(s == Status::kOk);
        if (!op.shared) {
          FUZZ_CHECK(loaded == present);
          if (loaded) FUZZ_CHECK(existing == it->second);
          else model[key] = v;
        } else {
          lastShared[idx] = loaded ? existing : v;
        }
        break;
      }
      case kSwap: {
        std::string v = nextValue(op.arg);
        std::string previous;
        bool loaded = false;
        Status s = map.swap(rec, blob(key), blob(v), [&](Blob prev) {
          checkValue(prev, owner);
          previous = str(prev);
        }, &loaded);
        FUZZ_CHECK(s == Status::kOk);
        if (!op.shared) {
          FUZZ_CHECK(loaded == present);
          if (loaded) FUZZ_CHECK(previous == it->second);
          model[key] = v;
        } else {
          lastShared[idx] = v;
        }
        break;
      }
      case kCas: {
        std::string v = nextValue(op.arg);
        // Expected: the right value (model / last seen), or a wrong one.
        const bool wrong = op.arg & 0x80;
        std::string expected = op.shared ? lastShared[idx] : (present ? it->second : std::string("none"));
        if (wrong || expected.empty()) expected = makeValue(t, 0xffffffffu, op.arg % 5);
        bool swapped = false;
        FUZZ_CHECK(map.compareAndSwap(rec, blob(key), blob(expected), blob(v), &swapped) == Status::kOk);
        if (!op.shared) {
          FUZZ_CHECK(swapped == (present && !wrong));
          if (swapped) model[key] = v;
        } else {
          FUZZ_CHECK(!(wrong && swapped));
          if (swapped) lastShared[idx] = v;
        }
        break;
      }
      case kCad: {
        const bool wrong = op.arg & 0x80;
        std::string expected = op.shared ? lastShared[idx] : (present ? it->second : std::string("none"));
        if (wrong || expected.empty()) expected = makeValue(t, 0xffffffffu, op.arg % 5);
        bool deleted = map.compareAndDelete(rec, blob(key), blob(expected));
        if (!op.shared) {
          FUZZ_CHECK(deleted == (present && !wrong));
          if (deleted) model.erase(key);
        } else {
          FUZZ_CHECK(!(wrong && deleted));
        }
        break;
      }
      case kLoadAndDelete: {
        std::string previous;
        bool found = map.loadAndDelete(rec, blob(key), [&](Blob prev) {
          checkValue(prev, owner);
          previous = str(prev);
        });
        if (!op.shared) {
          FUZZ_CHECK(found == present);
          if (found) FUZZ_CHECK(previous == it->second);
          model.erase(key);
        }
        break;
      }
      case kLoadMany: {
        // A window of own keys from idx, plus one shared key.
        std::vector<std::string> keys;
        for (unsigned j = 0; j < 1u + op.arg % 24; j++) keys.push_back(privateKey(t, (op.key + j) % kPrivateKeys));
        keys.push_back(sharedKey(op.arg % kSharedKeys));
        std::vector<Blob> blobs;
        for (const auto& k : keys) blobs.push_back(blob(k));
        size_t calls = 0;
        map.loadMany(rec, blobs.data(), blobs.size(), [&](size_t i, bool found, Blob v) {
          FUZZ_CHECK(i == calls++);
          if (i + 1 == keys.size()) {
            if (found) checkValue(v, -1);
            return;
          }
          auto m = model.find(keys[i]);
          FUZZ_CHECK(found == (m != model.end()));
          if (found) FUZZ_CHECK(str(v) == m->second);
        });
        FUZZ_CHECK(calls == keys.size());
        break;
      }
      case kIterate:
        iterate(map, rec, op);
        break;
    }
  }

  // One full iteration in small batches, deleting own keys at and ahead of the cursor.
  void iterate(ConcurrentMap& map, ebr::ThreadRecord& rec, const Op& op) {
    ConcurrentMap::Iterator* iter = nullptr;
    FUZZ_CHECK(map.iterStart(rec, &iter) == Status::kOk);
    const Model atStart = model;
    std::unordered_set<std::string> produced, deleted;
    const size_t batch = 1 + op.arg % 16;
    unsigned n = 0;
    for (;;) {
      size_t got = map.iterNext(rec, iter, batch, [&](Blob k, Blob v) {
        int owner = ownerOf(k);
        checkValue(v, owner);
        if (owner != static_cast<int>(t)) return;
        std::string key = str(k);
        FUZZ_CHECK(produced.insert(key).second);  // own keys are never re-inserted here
        FUZZ_CHECK(deleted.count(key) == 0);
        auto m = model.find(key);
        FUZZ_CHECK(m != model.end());
        FUZZ_CHECK(str(v) == m->second);
        n++;
        if ((n + op.key) % 3 == 0) {  // delete at the cursor
          FUZZ_CHECK(map.erase(rec, k));
          model.erase(key);
          deleted.insert(key);
        }
        if ((n + op.key) % 5 == 0) {  // delete one ahead (maybe not reached yet)
          std::string ahead = privateKey(t, (k.data[2] + 1 + op.arg) % kPrivateKeys);
          bool had = model.erase(ahead) == 1;
          FUZZ_CHECK(map.erase(rec, blob(ahead)) == had);
          if (had) deleted.insert(ahead);
        }
      });
      if (got == 0) break;
    }
    map.iterEnd(iter);
    for (const auto& [key, value] : atStart) {
      if (deleted.count(key) == 0) FUZZ_CHECK(produced.count(key) == 1);
    }
  }
};

Op decodeOp(FuzzedDataProvider& in) {
  Op op;
  op.kind = in.ConsumeIntegral<uint8_t>() % kOpKinds;
  uint8_t k = in.ConsumeIntegral<uint8_t>();
  op.shared = (k & 0xe0) == 0xe0;  // 1 in 8 operations on shared keys
  op.key = op.shared ? k : static_cast<uint8_t>(k * 37 % kPrivateKeys);
  op.arg = in.ConsumeIntegral<uint8_t>();
  if (op.kind == kIterate && (op.arg & 0x70) != 0) op.kind = kLoad;  // iterations: rarer
  return op;
}

// Quiescent check: the map holds exactly the union of the models plus shared keys.
void verify(ConcurrentMap& map, ebr::ThreadRecord& rec, std::vector<Worker>& workers) {
  uint64_t expected = 0;
  for (auto& w : workers) {
    expected += w.model.size();
    for (const auto& [key, value] : w.model) {
      std::string got;
      FUZZ_CHECK(map.load(rec, blob(key), [&](Blob v) { got = str(v); }));
      FUZZ_CHECK(got == value);
    }
  }
  std::unordered_set<std::string> shared;
  for (unsigned i = 0; i < kSharedKeys; i++) {
    if (map.load(rec, blob(sharedKey(i)), [&](Blob v) { checkValue(v, -1); })) shared.insert(sharedKey(i));
  }
  expected += shared.size();
  FUZZ_CHECK(map.size() == expected);
  ConcurrentMap::Iterator* iter = nullptr;
  FUZZ_CHECK(map.iterStart(rec, &iter) == Status::kOk);
  std::unordered_set<std::string> seen;
  while (map.iterNext(rec, iter, 64, [&](Blob k, Blob v) {
    std::string key = str(k);
    FUZZ_CHECK(seen.insert(key).second);
    int owner = ownerOf(k);
    if (owner < 0) {
      FUZZ_CHECK(shared.count(key) == 1);
      checkValue(v, -1);
    } else {
      FUZZ_CHECK(static_cast<size_t>(owner) < workers.size());
      auto m = workers[owner].model.find(key);
      FUZZ_CHECK(m != workers[owner].model.end());
      FUZZ_CHECK(str(v) == m->second);
    }
  }) != 0) {
  }
  map.iterEnd(iter);
  FUZZ_CHECK(seen.size() == expected);
  MapStats s = map.stats(rec);
  FUZZ_CHECK(s.count == expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const unsigned threads = 2 + in.ConsumeIntegral<uint8_t>() % 2;
  MapOptions options;
  static uint64_t (*const kHashModes[])(uint64_t) = {nullptr, nullptr, eightChains, oneChain};
  options.hashOverride = kHashModes[in.ConsumeIntegral<uint8_t>() % 4];
  options.hint = in.ConsumeIntegral<uint8_t>() % 4 == 0 ? in.ConsumeIntegralInRange<uint64_t>(0, 2000) : 0;
  options.fixedSeed = true;
  options.seed = 42;

  ConcurrentMap* map = nullptr;
  FUZZ_CHECK(ConcurrentMap::create(options, &map) == Status::kOk);
  ebr::ThreadRecord* mainRec = ebr::registerThread();
  FUZZ_CHECK(mainRec != nullptr);
  for (auto& c : g_issued) c.store(0);

  std::vector<Worker> workers(threads);
  for (unsigned t = 0; t < threads; t++) workers[t].t = t;
  for (unsigned phase = 0; phase < 4 && in.remaining_bytes() > 0; phase++) {
    for (auto& w : workers) {
      w.ops.clear();
      std::vector<uint8_t> slice = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 600));
      FuzzedDataProvider own(slice.data(), slice.size());
      while (own.remaining_bytes() > 0) w.ops.push_back(decodeOp(own));
    }
    std::atomic<unsigned> ready{0};
    std::vector<std::thread> running;
    for (auto& w : workers) {
      running.emplace_back([&, wp = &w] {
        ebr::ThreadRecord* rec = ebr::registerThread();
        FUZZ_CHECK(rec != nullptr);
        ready.fetch_add(1);
        while (ready.load() < threads) std::this_thread::yield();
        wp->run(*map, *rec);
        ebr::unregisterThread(rec);
      });
    }
    for (auto& th : running) th.join();
    verify(*map, *mainRec, workers);
    switch (in.ConsumeIntegral<uint8_t>() % 4) {
      case 0:
        break;
      case 1:
      case 3: {
        map->clear(*mainRec);
        for (auto& w : workers) {
          w.model.clear();
          for (auto& s : w.lastShared) s.clear();
        }
        FUZZ_CHECK(map->size() == 0);
        if (phase % 2 == 1) break;
        [[fallthrough]];
      }
      case 2: {
        uint64_t n = uint64_t{1} << in.ConsumeIntegralInRange<unsigned>(0, 14);
        Status s = map->reserve(*mainRec, n);
        FUZZ_CHECK(s == Status::kOk || s == Status::kNoMemory);
        break;
      }
    }
    verify(*map, *mainRec, workers);
  }
  map->release();
  ebr::collect(*mainRec);
  ebr::unregisterThread(mainRec);
  return 0;
}

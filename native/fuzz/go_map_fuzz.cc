// libFuzzer target for the single-threaded core: GoMap<K, V> against std::unordered_map.
//
// Build and run: `npm run test:fuzz` (scripts/fuzz.sh: clang-14, -fsanitize=fuzzer,
// address,undefined; the seed corpus is native/fuzz/corpus/).
//
// Input format (decoded with LLVM's FuzzedDataProvider, so every byte string is valid):
//   header   one byte: the map flavour (key kind x value kind, see runFlavour), one byte:
//            the hash mode (normal, or a hashOverride forcing collisions: few chains, one
//            chain, one hash), one byte: a hint, 8 bytes: the fixed seed;
//   body     operations until the data runs out: set, getOrInsert, get/contains, erase,
//            clear, reserve, shrink, getMany, bulk insert / erase (to reach grows and
//            shrinks cheaply), iterators (start, step, stop: up to three live at once,
//            interleaved with every other operation, so iteration meets mutation and
//            growth), and "fail the Nth allocation from now" before the next operation.
//
// Keys: every kind the addon uses (i64 words, f64 words normalised like SameValueZero,
// Latin-1 / UTF-16 string blobs, bytes blobs, the tagged primitives and object ids of
// 'any' keys), short (inline) and long (boxed, up to hundreds of bytes), new or reused
// from a pool of keys seen earlier so hits and overwrites are common.
//
// Checks, after every operation: the result against the model (found / value /
// inserted / erased), size(), stats() invariants. After a failed allocation: the map
// equals the model it had before (full comparison). Iterators: each produced entry is in
// the map with its current value; a key is produced twice only if it was deleted or
// inserted during the iteration; at the end every entry present for the whole iteration
// was produced. Every 64 operations and at the end: a full comparison (lookups of every
// model key and a complete iteration). A failed check prints a line and aborts, which
// libFuzzer reports as a crash with the input saved.
//
// Adding SyncMap / GoCache next: a flavour is a (KeyTraits, ValueTraits) pair run by
// Harness<KT, VT>; a new container gets its own Harness-like struct with the same op
// decoding (decodeOp) and model, and a new entry in LLVMFuzzerTestOneInput's switch.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/go_map.h"

namespace {

using namespace gomap;

[[noreturn]] void failCheck(const char* what, int line) {
  failNthAllocation(0);
  std::fprintf(stderr, "gomap fuzz: check failed at line %d: %s\n", line, what);
  std::abort();
}
#define FUZZ_CHECK(cond)                         \
  do {                                           \
    if (!(cond)) failCheck(#cond, __LINE__);     \
  } while (0)

// Limits that keep one input fast (the fuzzer wants thousands of runs per second).
constexpr size_t kMaxEntries = 1200;      // bulk inserts stop here
constexpr size_t kMaxCollidingEntries = 300;  // ... or here when a hash mode forces collisions
constexpr size_t kMaxPool = 512;          // remembered keys
constexpr size_t kMaxIterators = 3;
constexpr size_t kFullCheckEvery = 64;    // operations between full comparisons
constexpr uint64_t kMaxReserve = 1 << 10;

// ---- hash modes ---------------------------------------------------------------------------

uint64_t eightChains(uint64_t h) { return (h & 0xff00000000000000ull) | (h & 7); }
uint64_t oneChain(uint64_t h) { return h & 0xff00000000000000ull; }
uint64_t oneHash(uint64_t) { return 0x4200000000000000ull; }
uint64_t (*const kHashModes[])(uint64_t) = {nullptr, nullptr, nullptr, eightChains, oneChain, oneHash};

// ---- keys ---------------------------------------------------------------------------------

// Bytes for a blob: from the input while it lasts, then a deterministic filler.
std::string takeBytes(FuzzedDataProvider& in, size_t len) {
  std::string s = in.ConsumeBytesAsString(len);
  for (size_t i = s.size(); i < len; ++i) s.push_back(static_cast<char>(i * 131 + len));
  return s;
}

size_t blobLength(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 9)) {
    case 0: return 0;
    case 1: return 12;  // the inline capacity
    case 2: return 13;  // just boxed
    case 3: return in.ConsumeIntegralInRange<size_t>(17, 64);
    case 4: return in.ConsumeIntegralInRange<size_t>(65, 400);
    default: return in.ConsumeIntegralInRange<size_t>(1, 12);
  }
}

// The SameValueZero key of a double, computed here independently of the core.
uint64_t modelF64Bits(double d) {
  if (std::isnan(d)) return 0x7ff8000000000000ull;
  if (d == 0) return 0;
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  return bits;
}

struct I64Key {
  using Policy = Word64Key;
  using Model = uint64_t;
  // The view to pass for a model key (the same word).
  static uint64_t view(const Model& m) { return m; }
  static Model fromView(uint64_t v) { return v; }
  static Model decode(FuzzedDataProvider& in) {
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
      case 0: return in.ConsumeIntegralInRange<uint64_t>(0, 31);
      case 1: return static_cast<uint64_t>(INT64_MIN) + in.ConsumeIntegralInRange<uint64_t>(0, 3);
      default: return in.ConsumeIntegral<uint64_t>();
    }
  }
  static Model derive(uint64_t i, uint64_t salt) { return i * 0x9e3779b97f4a7c15ull + salt; }
};

// f64 keys: the model holds SameValueZero bits; operations pass the core's f64KeyBits of
// a double that is a different spelling of the same key when it can be (-0, other NaNs).
struct F64Key {
  using Policy = Word64Key;
  using Model = uint64_t;
  static uint64_t view(const Model& m) {
    double d;
    std::memcpy(&d, &m, sizeof d);
    if (m == 0) d = -0.0;                                   // the other zero
    if (m == 0x7ff8000000000000ull) {                        // another NaN
      uint64_t nan = 0xfff0000000000123ull;
      std::memcpy(&d, &nan, sizeof d);
    }
    return f64KeyBits(d);
  }
  static Model fromView(uint64_t v) { return v; }
  static Model decode(FuzzedDataProvider& in) {
    double d;
    switch (in.ConsumeIntegralInRange<int>(0, 5)) {
      case 0: d = in.ConsumeBool() ? 0.0 : -0.0; break;
      case 1: {
        uint64_t bits = 0x7ff0000000000000ull | (in.ConsumeIntegral<uint64_t>() & 0x800fffffffffffffull) | 1;
        std::memcpy(&d, &bits, sizeof d);
        break;
      }
      case 2: d = static_cast<double>(in.ConsumeIntegralInRange<int>(-20, 20)) * 0.5; break;
      default: {
        uint64_t bits = in.ConsumeIntegral<uint64_t>();
        std::memcpy(&d, &bits, sizeof d);
      }
    }
    return modelF64Bits(d);
  }
  static Model derive(uint64_t i, uint64_t salt) { return modelF64Bits(static_cast<double>(i) + 0.25 * (salt & 3) + 1e6); }
};

// Blob keys: the model is tag byte + bytes.
Blob blobOf(const std::string& m) {
  return Blob{static_cast<uint8_t>(m[0]), reinterpret_cast<const uint8_t*>(m.data()) + 1,
              static_cast<uint32_t>(m.size() - 1)};
}
std::string modelOf(const Blob& b) {
  std::string s(1, static_cast<char>(b.tag));
  if (b.len != 0) s.append(reinterpret_cast<const char*>(b.data), b.len);
  return s;
}

template <class Tags>
struct BlobKeyT {
  using Policy = BlobKey;
  using Model = std::string;
  static Blob view(const Model& m) { return blobOf(m); }
  static Model fromView(const Blob& b) { return modelOf(b); }
  static Model decode(FuzzedDataProvider& in) {
    const uint8_t tag = Tags::pick(in);
    size_t len;
    switch (tag) {
      case kTagNumber:
      case kTagObjectRef: len = 8; break;
      case kTagFalse:
      case kTagTrue:
      case kTagUndefined:
      case kTagNull: len = 0; break;
      case kTagBigInt: len = in.ConsumeIntegralInRange<size_t>(1, 24); break;
      case kTagUtf16: len = blobLength(in) & ~size_t{1}; break;
      default: len = blobLength(in);
    }
    return std::string(1, static_cast<char>(tag)) + takeBytes(in, len);
  }
  static Model derive(uint64_t i, uint64_t salt) {
    std::string body = "bulk:" + std::to_string(i) + ":" + std::to_string(salt);
    if (i % 3 == 0) body += ":a-longer-key-that-lives-in-a-box";
    return std::string(1, static_cast<char>(Tags::kBulkTag)) + body;
  }
};
struct StringTags {
  static constexpr uint8_t kBulkTag = kTagLatin1;
  static uint8_t pick(FuzzedDataProvider& in) { return in.ConsumeBool() ? kTagLatin1 : kTagUtf16; }
};
struct BytesTags {
  static constexpr uint8_t kBulkTag = kTagBytes;
  static uint8_t pick(FuzzedDataProvider&) { return kTagBytes; }
};
struct AnyTags {
  static constexpr uint8_t kBulkTag = kTagLatin1;
  static uint8_t pick(FuzzedDataProvider& in) { return in.ConsumeIntegralInRange<uint8_t>(0, kTagCount - 1); }
};

// ---- values -------------------------------------------------------------------------------

struct U64Val {
  using Policy = Word64Value;
  using Model = uint64_t;
  static uint64_t view(const Model& m) { return m; }
  static Model fromView(uint64_t v) { return v; }
  static Model decode(FuzzedDataProvider& in) { return in.ConsumeIntegral<uint64_t>(); }
  static Model derive(uint64_t i) { return i * 7; }
};
struct SlabVal {
  using Policy = SlabIndexValue;
  using Model = uint32_t;
  static uint32_t view(const Model& m) { return m; }
  static Model fromView(uint32_t v) { return v; }
  static Model decode(FuzzedDataProvider& in) { return in.ConsumeIntegral<uint32_t>(); }
  static Model derive(uint64_t i) { return static_cast<uint32_t>(i); }
};
struct BlobVal {
  using Policy = BlobValue;
  using Model = std::string;
  static Blob view(const Model& m) { return blobOf(m); }
  static Model fromView(const Blob& b) { return modelOf(b); }
  static Model decode(FuzzedDataProvider& in) {
    const uint8_t tag = in.ConsumeIntegralInRange<uint8_t>(0, 2);
    return std::string(1, static_cast<char>(tag)) + takeBytes(in, blobLength(in));
  }
  static Model derive(uint64_t i) { return std::string(1, static_cast<char>(kTagLatin1)) + "value-" + std::to_string(i) + (i % 2 ? "-long-enough-for-a-box" : ""); }
};

// ---- the harness ----------------------------------------------------------------------------

enum Op : uint8_t {
  kSet, kGetOrInsert, kGet, kErase, kClear, kReserve, kShrink, kGetMany, kBulkInsert, kBulkErase,
  kIterStart, kIterStep, kIterStop, kFailNextAllocation, kOpCount
};

// Weighted op choice: plain reads and writes most often, clear rarely.
Op decodeOp(FuzzedDataProvider& in) {
  static const Op kTable[] = {kSet, kSet, kSet, kSet, kGetOrInsert, kGet, kGet, kGet, kErase, kErase, kErase,
                              kClear, kReserve, kShrink, kGetMany, kBulkInsert, kBulkErase,
                              kIterStart, kIterStep, kIterStep, kIterStep, kIterStop, kFailNextAllocation,
                              kFailNextAllocation};
  return kTable[in.ConsumeIntegralInRange<size_t>(0, sizeof kTable / sizeof kTable[0] - 1)];
}

template <class KT, class VT>
struct Harness {
  using Map = GoMap<typename KT::Policy, typename VT::Policy>;
  using KM = typename KT::Model;
  using VM = typename VT::Model;
  using KV = typename KT::Policy::View;
  using VV = typename VT::Policy::View;

  struct LiveIterator {
    std::unique_ptr<typename Map::Iterator> it;
    std::unordered_set<KM> atStart;   // keys present when it started
    std::unordered_set<KM> touched;   // deleted or newly inserted since
    std::unordered_set<KM> produced;
  };

  FuzzedDataProvider& in;
  Map map;
  std::unordered_map<KM, VM> model;
  std::vector<KM> pool;
  std::vector<std::unique_ptr<LiveIterator>> iters;
  bool anyInjected = false;   // an allocation failed at some point: the map may be fuller
  bool armed = false;         // an allocation failure is armed for the next operation
  uint64_t bulkSalt = 0;
  size_t poolCursor = 0;

  const size_t maxEntries;

  Harness(FuzzedDataProvider& input, const MapOptions& options)
      : in(input), map(options), maxEntries(options.hashOverride ? kMaxCollidingEntries : kMaxEntries) {}

  ~Harness() {
    failNthAllocation(0);
    iters.clear();
  }

  KM key() {
    if (!pool.empty() && in.ConsumeIntegralInRange<int>(0, 2) != 0) {
      return pool[in.ConsumeIntegralInRange<size_t>(0, pool.size() - 1)];
    }
    KM k = KT::decode(in);
    remember(k);
    return k;
  }
  void remember(const KM& k) {
    if (pool.size() < kMaxPool) pool.push_back(k);
    else pool[poolCursor++ % kMaxPool] = k;
  }

  void noteInserted(const KM& k) {
    for (auto& li : iters) li->touched.insert(k);
  }
  void noteErased(const KM& k) { noteInserted(k); }

  // A failed operation must leave the map as it was: compare everything.
  void afterStatus(Status st) {
    if (st == Status::kOk) return;
    FUZZ_CHECK(st == Status::kNoMemory);
    FUZZ_CHECK(armed);  // no failure unless one was injected
    failNthAllocation(0);
    fullCheck();
  }

  void step() {
    const Op op = decodeOp(in);
    const bool wasArmed = armed;
    switch (op) {
      case kSet: {
        KM k = key();
        VM v = VT::decode(in);
        bool inserted = false;
        Status st = map.set(KT::view(k), VT::view(v), &inserted);
        afterStatus(st);
        if (st == Status::kOk) {
          bool isNew = model.insert_or_assign(k, v).second;
          FUZZ_CHECK(inserted == isNew);
          if (isNew) noteInserted(k);
        }
        break;
      }
      case kGetOrInsert: {
        KM k = key();
        VM v = VT::decode(in);
        VV current{};
        bool inserted = false;
        Status st = map.getOrInsert(KT::view(k), VT::view(v), &current, &inserted);
        afterStatus(st);
        if (st == Status::kOk) {
          auto [pos, isNew] = model.try_emplace(k, v);
          FUZZ_CHECK(inserted == isNew);
          FUZZ_CHECK(VT::fromView(current) == pos->second);
          if (isNew) noteInserted(k);
        }
        break;
      }
      case kGet: {
        KM k = key();
        VV got{};
        bool found = map.get(KT::view(k), &got);
        auto pos = model.find(k);
        FUZZ_CHECK(found == (pos != model.end()));
        FUZZ_CHECK(map.contains(KT::view(k)) == found);
        if (found) FUZZ_CHECK(VT::fromView(got) == pos->second);
        break;
      }
      case kErase: {
        KM k = key();
        int calls = 0;
        VM removed{};
        bool erased = map.erase(KT::view(k), [&](const VV& v) {
          ++calls;
          removed = VT::fromView(v);
        });
        auto pos = model.find(k);
        FUZZ_CHECK(erased == (pos != model.end()));
        FUZZ_CHECK(calls == (erased ? 1 : 0));
        if (erased) {
          FUZZ_CHECK(removed == pos->second);
          model.erase(pos);
          noteErased(k);
        }
        break;
      }
      case kClear:
        for (const auto& [k, v] : model) noteErased(k);
        map.clear();
        model.clear();
        FUZZ_CHECK(map.size() == 0);
        break;
      case kReserve: {
        uint64_t n = in.ConsumeIntegralInRange<uint64_t>(0, kMaxReserve);
        if (in.ConsumeIntegralInRange<int>(0, 15) == 0) n = uint64_t{1} << in.ConsumeIntegralInRange<int>(44, 63);
        const unsigned before = map.stats().B;
        Status st = map.reserve(n);
        if (n > kMaxReserve) {
          FUZZ_CHECK(st == Status::kTooLarge);
          FUZZ_CHECK(map.stats().B == before);
        } else {
          afterStatus(st);
          if (st == Status::kOk && n > 0) FUZZ_CHECK(map.stats().B >= map_detail::bucketBitsFor(n));
        }
        break;
      }
      case kShrink: {
        Status st = map.shrink();
        afterStatus(st);
        if (st == Status::kOk) {
          MapStats s = map.stats();
          FUZZ_CHECK(!s.growing);
          FUZZ_CHECK(s.B <= map_detail::bucketBitsFor(model.size()));
        }
        break;
      }
      case kGetMany: {
        const size_t n = in.ConsumeIntegralInRange<size_t>(0, 20);
        std::vector<KM> ks;
        for (size_t i = 0; i < n; ++i) ks.push_back(key());
        std::vector<KV> views;
        for (const KM& k : ks) views.push_back(KT::view(k));
        std::unique_ptr<VV[]> out(new VV[n + 1]());
        std::unique_ptr<bool[]> found(new bool[n + 1]());
        map.getMany(views.data(), n, out.get(), found.get());
        for (size_t i = 0; i < n; ++i) {
          auto pos = model.find(ks[i]);
          FUZZ_CHECK(found[i] == (pos != model.end()));
          if (found[i]) FUZZ_CHECK(VT::fromView(out[i]) == pos->second);
        }
        break;
      }
      case kBulkInsert: {
        const uint64_t n = in.ConsumeIntegralInRange<uint64_t>(1, 200);
        const uint64_t salt = bulkSalt++;
        for (uint64_t i = 0; i < n && model.size() < maxEntries; ++i) {
          KM k = KT::derive(i, salt);
          VM v = VT::derive(i + salt);
          bool inserted = false;
          Status st = map.set(KT::view(k), VT::view(v), &inserted);
          afterStatus(st);
          if (st != Status::kOk) break;
          bool isNew = model.insert_or_assign(k, v).second;
          FUZZ_CHECK(inserted == isNew);
          if (isNew) noteInserted(k);
          if (i % 16 == 0) remember(k);
        }
        break;
      }
      case kBulkErase: {
        // Erase a share of the entries (in the model's order, which is unrelated to the map's).
        const size_t keepOneIn = in.ConsumeIntegralInRange<size_t>(1, 8);
        std::vector<KM> victims;
        size_t i = 0;
        for (const auto& kv : model) {
          if (i++ % keepOneIn != 0) victims.push_back(kv.first);
        }
        if (keepOneIn == 1) {
          for (const auto& kv : model) victims.push_back(kv.first);
        }
        for (const KM& k : victims) {
          FUZZ_CHECK(map.erase(KT::view(k)));
          model.erase(k);
          noteErased(k);
        }
        break;
      }
      case kIterStart: {
        if (iters.size() >= kMaxIterators) break;
        auto li = std::make_unique<LiveIterator>();
        for (const auto& kv : model) li->atStart.insert(kv.first);
        li->it = std::make_unique<typename Map::Iterator>(map);
        iters.push_back(std::move(li));
        break;
      }
      case kIterStep: {
        if (iters.empty()) break;
        const size_t which = in.ConsumeIntegralInRange<size_t>(0, iters.size() - 1);
        const size_t steps = in.ConsumeBool() ? in.ConsumeIntegralInRange<size_t>(1, 8) : SIZE_MAX;
        LiveIterator& li = *iters[which];
        KV kv{};
        VV vv{};
        bool more = true;
        for (size_t s = 0; s < steps && (more = li.it->next(&kv, &vv)); ++s) {
          KM k = KT::fromView(kv);
          auto pos = model.find(k);
          FUZZ_CHECK(pos != model.end());                   // produced entries are in the map
          FUZZ_CHECK(VT::fromView(vv) == pos->second);      // with their current value
          bool first = li.produced.insert(k).second;
          FUZZ_CHECK(first || li.touched.count(k) != 0);    // once, unless deleted/re-added
        }
        if (!more) {
          for (const KM& k : li.atStart) {
            if (li.touched.count(k) == 0) FUZZ_CHECK(li.produced.count(k) != 0);
          }
          iters.erase(iters.begin() + static_cast<std::ptrdiff_t>(which));
        }
        break;
      }
      case kIterStop:
        if (!iters.empty()) iters.erase(iters.begin() + static_cast<std::ptrdiff_t>(in.ConsumeIntegralInRange<size_t>(0, iters.size() - 1)));
        break;
      case kFailNextAllocation:
        failNthAllocation(in.ConsumeIntegralInRange<uint64_t>(1, 6));
        armed = true;
        anyInjected = true;
        break;
      case kOpCount:
        break;
    }
    if (wasArmed) {
      // The armed failure had one operation to happen in; disarm whatever is left of it.
      failNthAllocation(0);
      armed = false;
    }
    checkCheap();
  }

  void checkCheap() {
    FUZZ_CHECK(map.size() == model.size());
    MapStats s = map.stats();
    FUZZ_CHECK(s.count == model.size());
    FUZZ_CHECK(s.buckets == (uint64_t{1} << s.B));
    if (s.growing) {
      FUZZ_CHECK(s.oldBuckets == s.buckets || s.oldBuckets * 2 == s.buckets);
      FUZZ_CHECK(s.evacuated < s.oldBuckets);
    } else {
      FUZZ_CHECK(s.oldBuckets == 0 && s.evacuated == 0);
      // A grow that could not get memory leaves the table fuller than 6.5 per bucket.
      if (!anyInjected && s.count > 8) FUZZ_CHECK(s.loadFactor <= 6.5 / 8);
    }
    if (s.count > 0) FUZZ_CHECK(s.bytes > 0);
  }

  void fullCheck() {
    FUZZ_CHECK(map.size() == model.size());
    for (const auto& [k, v] : model) {
      VV got{};
      FUZZ_CHECK(map.get(KT::view(k), &got));
      FUZZ_CHECK(VT::fromView(got) == v);
    }
    std::unordered_set<KM> seen;
    typename Map::Iterator it(map);
    KV kv{};
    VV vv{};
    while (it.next(&kv, &vv)) {
      KM k = KT::fromView(kv);
      FUZZ_CHECK(seen.insert(k).second);
      auto pos = model.find(k);
      FUZZ_CHECK(pos != model.end());
      FUZZ_CHECK(VT::fromView(vv) == pos->second);
    }
    FUZZ_CHECK(seen.size() == model.size());
  }

  void run() {
    size_t ops = 0;
    while (in.remaining_bytes() > 0) {
      step();
      if (++ops % kFullCheckEvery == 0) fullCheck();
    }
    failNthAllocation(0);
    fullCheck();
  }
};

template <class KT, class VT>
void runFlavour(FuzzedDataProvider& in, const MapOptions& options, uint64_t hint) {
  Harness<KT, VT> h(in, options);
  Status st = h.map.init(hint);
  FUZZ_CHECK(st == Status::kOk);
  h.run();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const uint8_t flavour = in.ConsumeIntegral<uint8_t>();
  MapOptions options;
  options.hashOverride = kHashModes[in.ConsumeIntegral<uint8_t>() % (sizeof kHashModes / sizeof kHashModes[0])];
  const uint64_t hint = in.ConsumeIntegral<uint8_t>() < 32 ? in.ConsumeIntegralInRange<uint64_t>(0, 2000) : 0;
  options.fixedSeed = true;
  options.seed = in.ConsumeIntegral<uint64_t>();
  switch (flavour % 7) {
    case 0: runFlavour<I64Key, U64Val>(in, options, hint); break;
    case 1: runFlavour<F64Key, SlabVal>(in, options, hint); break;
    case 2: runFlavour<BlobKeyT<StringTags>, BlobVal>(in, options, hint); break;
    case 3: runFlavour<BlobKeyT<BytesTags>, U64Val>(in, options, hint); break;
    case 4: runFlavour<BlobKeyT<AnyTags>, SlabVal>(in, options, hint); break;
    case 5: runFlavour<BlobKeyT<AnyTags>, BlobVal>(in, options, hint); break;
    default: runFlavour<I64Key, BlobVal>(in, options, hint); break;
  }
  return 0;
}

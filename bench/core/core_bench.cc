// gomap_core_bench: bench/'s map workloads on the C++ core alone (no Node, no Node-API),
// printing JSON on stdout. bench/index.mjs merges these numbers with the JS and Go ones,
// so the cost of crossing the JS/native boundary is visible row by row.
//
// Same key sets, order and workloads as bench/index.mjs and bench/go/main.go: keys
// "user:"+i (Latin-1 blobs) and integers 0..n-1 (64-bit words), misses "miss:"+i and
// n..2n-1, shuffled by the shared mulberry32 Fisher–Yates permutation. Values are the
// bits of the double i + 0.5.
//
//   gomap_core_bench --sizes=1000,1000000 --rounds=3 --keys=int,string
//   gomap_core_bench --sizes=1e7 --rounds=1 --lookup-repeats=3 --workloads=getHit,getHitBatch
//
// getHit is one get() per key; getHitBatch is one getMany() over all the probe keys (it
// hashes a window of keys ahead and prefetches their buckets): both are reported.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/go_map.h"

namespace {

// Permutation seeds, one per workload (shared with JS and Go).
constexpr uint32_t kSeedGetHit = 1;
constexpr uint32_t kSeedOverwrite = 2;
constexpr uint32_t kSeedDelete = 3;
constexpr uint32_t kSeedGetMiss = 4;
constexpr uint64_t kMapSeed = 42;

// The shared 32-bit generator (see bench/lib/prng.mjs).
class Mulberry32 {
 public:
  explicit Mulberry32(uint32_t seed) : state_(seed) {}
  uint32_t next() {
    state_ += 0x6d2b79f5u;
    uint32_t s = state_;
    uint32_t t = (s ^ (s >> 15)) * (s | 1u);
    t = (t + (t ^ (t >> 7)) * (t | 61u)) ^ t;
    return t ^ (t >> 14);
  }

 private:
  uint32_t state_;
};

// A random permutation of 0..n-1: Fisher–Yates from the top down.
std::vector<uint32_t> permutation(size_t n, uint32_t seed) {
  std::vector<uint32_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint32_t>(i);
  Mulberry32 g(seed);
  for (size_t i = n; i-- > 1;) {
    uint32_t j = g.next() % static_cast<uint32_t>(i + 1);
    std::swap(p[i], p[j]);
  }
  return p;
}

volatile double gSink;  // keeps results alive

double valueFor(size_t i) { return static_cast<double>(i) + 0.5; }
uint64_t bits(double d) { return gomap::f64Bits(d); }

using Clock = std::chrono::steady_clock;

// --- key sets --------------------------------------------------------------------------

// Integer keys: the views are the words themselves, so "fresh" and "same" coincide.
struct IntKeys {
  using Map = gomap::GoMap<gomap::Word64Key, gomap::Word64Value>;
  using View = uint64_t;
  static constexpr const char* kName = "int";

  struct Set {
    std::vector<View> views;
  };
  static Set stored(size_t n) {
    Set s;
    s.views.resize(n);
    for (size_t i = 0; i < n; ++i) s.views[i] = i;
    return s;
  }
  static Set fresh(const std::vector<uint32_t>& perm) {
    Set s;
    s.views.reserve(perm.size());
    for (uint32_t i : perm) s.views.push_back(i);
    return s;
  }
  static Set misses(const std::vector<uint32_t>& perm) {
    Set s;
    s.views.reserve(perm.size());
    for (uint32_t i : perm) s.views.push_back(perm.size() + i);
    return s;
  }
  static Set same(const Set&, const std::vector<uint32_t>& perm) { return fresh(perm); }
};

// String keys: each set owns its bytes; "fresh" sets hold new copies in probe order,
// "same" sets point at the stored set's bytes in random order.
struct StringKeys {
  using Map = gomap::GoMap<gomap::BlobKey, gomap::Word64Value>;
  using View = gomap::Blob;
  static constexpr const char* kName = "string";

  struct Set {
    std::vector<std::string> owned;
    std::vector<View> views;
  };
  static View viewOf(const std::string& s) {
    return View{gomap::kTagLatin1, reinterpret_cast<const uint8_t*>(s.data()), static_cast<uint32_t>(s.size())};
  }
  static Set build(size_t n, const char* prefix, const uint32_t* order) {
    Set s;
    s.owned.reserve(n);
    for (size_t j = 0; j < n; ++j) s.owned.push_back(prefix + std::to_string(order ? order[j] : j));
    s.views.reserve(n);
    for (const std::string& k : s.owned) s.views.push_back(viewOf(k));
    return s;
  }
  static Set stored(size_t n) { return build(n, "user:", nullptr); }
  static Set fresh(const std::vector<uint32_t>& perm) { return build(perm.size(), "user:", perm.data()); }
  static Set misses(const std::vector<uint32_t>& perm) { return build(perm.size(), "miss:", perm.data()); }
  static Set same(const Set& stored, const std::vector<uint32_t>& perm) {
    Set s;
    s.views.reserve(perm.size());
    for (uint32_t i : perm) s.views.push_back(stored.views[i]);
    return s;
  }
};

// --- the timed loops -------------------------------------------------------------------

template <class KS>
size_t insertAll(typename KS::Map& m, const typename KS::Set& keys) {
  for (size_t i = 0; i < keys.views.size(); ++i) {
    if (m.set(keys.views[i], bits(valueFor(i))) != gomap::Status::kOk) std::abort();
  }
  return m.size();
}

template <class KS>
size_t getAll(const typename KS::Map& m, const typename KS::Set& probes) {
  size_t found = 0;
  double sum = 0;
  for (const auto& k : probes.views) {
    uint64_t v;
    if (m.get(k, &v)) {
      ++found;
      sum += gomap::bitsToF64(v);
    }
  }
  gSink = sum;
  return found;
}

// Scratch space of getMany, allocated before timing.
struct BatchOut {
  std::vector<uint64_t> values;
  std::unique_ptr<bool[]> found;
  explicit BatchOut(size_t n) : values(n), found(new bool[n]) {}
};

template <class KS>
size_t getBatch(const typename KS::Map& m, const typename KS::Set& probes, BatchOut& out) {
  const size_t n = probes.views.size();
  m.getMany(probes.views.data(), n, out.values.data(), out.found.get());
  size_t found = 0;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    if (out.found[i]) {
      ++found;
      sum += gomap::bitsToF64(out.values[i]);
    }
  }
  gSink = sum;
  return found;
}

template <class KS>
size_t overwriteAll(typename KS::Map& m, const typename KS::Set& probes) {
  for (size_t i = 0; i < probes.views.size(); ++i) {
    if (m.set(probes.views[i], bits(static_cast<double>(i) + 0.25)) != gomap::Status::kOk) std::abort();
  }
  return m.size();
}

template <class KS>
size_t iterateAll(typename KS::Map& m) {
  typename KS::Map::Iterator it(m);
  typename KS::View k;
  uint64_t v;
  size_t count = 0;
  double sum = 0;
  while (it.next(&k, &v)) {
    ++count;
    sum += gomap::bitsToF64(v);
  }
  gSink = sum;
  return count;
}

template <class KS>
size_t eraseAll(typename KS::Map& m, const typename KS::Set& probes) {
  size_t erased = 0;
  for (const auto& k : probes.views) erased += m.erase(k) ? 1 : 0;
  return erased;
}

// --- passes, samples, scenarios ----------------------------------------------------------

struct Acc {
  double ns = 0;
  double ops = 0;
};
using Accs = std::map<std::string, Acc>;

template <class F>
void step(Accs& acc, const char* id, size_t n, size_t expected, F&& run) {
  auto t0 = Clock::now();
  size_t got = run();
  auto t1 = Clock::now();
  if (got != expected) {
    std::fprintf(stderr, "gomap_core_bench: %s n=%zu: got %zu, expected %zu\n", id, n, got, expected);
    std::exit(1);
  }
  Acc& a = acc[id];
  a.ns += std::chrono::duration<double, std::nano>(t1 - t0).count();
  a.ops += static_cast<double>(n);
}

struct Perms {
  std::vector<uint32_t> getHit, getMiss, overwrite, erase;
  explicit Perms(size_t n)
      : getHit(permutation(n, kSeedGetHit)),
        getMiss(permutation(n, kSeedGetMiss)),
        overwrite(permutation(n, kSeedOverwrite)),
        erase(permutation(n, kSeedDelete)) {}
};

// The table right after the timed insert (its shape explains many timings).
struct MemoryRow {
  size_t n;
  gomap::MapStats stats;
};

// Which workloads run, and how many samples each lookup step takes per pass (lookups do
// not change the map, so at 10M keys one built map serves several samples).
struct Plan {
  std::string workloads = "insert,getHit,getHitBatch,getHitSame,getMiss,overwrite,iterate,delete";
  int lookupRepeats = 1;
  bool on(const char* id) const {
    std::string list = "," + workloads + ",";
    return list.find(std::string(",") + id + ",") != std::string::npos;
  }
};

// The life of one map: insert, lookups, overwrite, iterate, delete.
template <class KS>
MemoryRow pass(size_t n, const Perms& p, const Plan& plan, std::vector<Accs>& accs) {
  gomap::MapOptions opts;
  opts.seed = kMapSeed;
  opts.fixedSeed = true;
  typename KS::Map m(opts);
  auto stored = KS::stored(n);
  step(accs[0], "insert", n, n, [&] { return insertAll<KS>(m, stored); });
  gomap::MapStats stats = m.stats();
  auto lookups = [&](const char* id, size_t expected, auto&& run) {
    for (int r = 0; r < plan.lookupRepeats; ++r) step(accs[r], id, n, expected, run);
  };
  if (plan.on("getHit") || plan.on("getHitBatch")) {
    auto probes = KS::fresh(p.getHit);
    if (plan.on("getHit")) lookups("getHit", n, [&] { return getAll<KS>(m, probes); });
    BatchOut out(n);
    if (plan.on("getHitBatch")) lookups("getHitBatch", n, [&] { return getBatch<KS>(m, probes, out); });
  }
  if (plan.on("getHitSame")) {
    auto probes = KS::same(stored, p.getHit);
    lookups("getHitSame", n, [&] { return getAll<KS>(m, probes); });
  }
  if (plan.on("getMiss")) {
    auto probes = KS::misses(p.getMiss);
    lookups("getMiss", 0, [&] { return getAll<KS>(m, probes); });
  }
  if (plan.on("overwrite")) {
    auto probes = KS::fresh(p.overwrite);
    step(accs[0], "overwrite", n, n, [&] { return overwriteAll<KS>(m, probes); });
  }
  if (plan.on("iterate")) step(accs[0], "iterate", n, n, [&] { return iterateAll<KS>(m); });
  if (plan.on("delete")) {
    auto probes = KS::fresh(p.erase);
    step(accs[0], "delete", n, n, [&] { return eraseAll<KS>(m, probes); });
  }
  return MemoryRow{n, stats};
}

size_t passesFor(size_t n) { return std::max<size_t>(1, (1000000 + n / 2) / n); }

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  size_t m = xs.size() / 2;
  return xs.size() % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}

struct Output {
  std::string results;  // JSON objects, comma separated
  std::string memory;
  void add(std::string& list, const std::string& item) {
    if (!list.empty()) list += ",\n";
    list += item;
  }
};

template <class KS>
void scenario(size_t n, int rounds, const Plan& plan, Output& out) {
  Perms p(n);
  std::map<std::string, std::vector<double>> samples;
  MemoryRow mem{};
  for (int r = 0; r < rounds; ++r) {
    std::vector<Accs> accs(plan.lookupRepeats);
    for (size_t i = 0, passes = passesFor(n); i < passes; ++i) mem = pass<KS>(n, p, plan, accs);
    for (const Accs& acc : accs) {
      for (const auto& [id, a] : acc) samples[id].push_back(a.ns / a.ops);
    }
    std::fprintf(stderr, "core: %s n=%zu round %d/%d\n", KS::kName, n, r + 1, rounds);
  }
  for (const auto& [id, s] : samples) {
    std::string list;
    for (double x : s) list += (list.empty() ? "" : ",") + std::to_string(x);
    char buf[256];
    std::snprintf(buf, sizeof buf, "{\"workload\":\"%s\",\"n\":%zu,\"keys\":\"%s\",\"nsPerOp\":%.3f,\"min\":%.3f,",
                  id.c_str(), n, KS::kName, median(s), *std::min_element(s.begin(), s.end()));
    out.add(out.results, std::string(buf) + "\"samples\":[" + list + "]}");
  }
  const gomap::MapStats& st = mem.stats;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"n\":%zu,\"keys\":\"%s\",\"bytes\":%llu,\"bytesPerEntry\":%.2f,\"B\":%u,"
                "\"overflowBuckets\":%llu,\"growing\":%s,\"grows\":%llu,\"sameSizeGrows\":%llu}",
                n, KS::kName, static_cast<unsigned long long>(st.bytes), static_cast<double>(st.bytes) / n, st.B,
                static_cast<unsigned long long>(st.overflowBuckets), st.growing ? "true" : "false",
                static_cast<unsigned long long>(st.grows), static_cast<unsigned long long>(st.sameSizeGrows));
  out.add(out.memory, buf);
}

std::vector<size_t> parseSizes(const std::string& s) {
  std::vector<size_t> sizes;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    double v = std::strtod(s.substr(start, end - start).c_str(), nullptr);
    if (v < 1) {
      std::fprintf(stderr, "gomap_core_bench: bad size in %s\n", s.c_str());
      std::exit(2);
    }
    sizes.push_back(static_cast<size_t>(v));
    start = end + 1;
  }
  return sizes;
}

std::string flagValue(int argc, char** argv, const char* name, const char* fallback) {
  std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return argv[i] + prefix.size();
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes = parseSizes(flagValue(argc, argv, "sizes", "1000,1000000,10000000"));
  int rounds = std::atoi(flagValue(argc, argv, "rounds", "3").c_str());
  std::string keys = flagValue(argc, argv, "keys", "int,string");
  Plan plan;
  plan.workloads = flagValue(argc, argv, "workloads", plan.workloads.c_str());
  plan.lookupRepeats = std::max(1, std::atoi(flagValue(argc, argv, "lookup-repeats", "1").c_str()));
  if (rounds < 1) rounds = 1;
  Output out;
  for (size_t n : sizes) {
    if (keys.find("int") != std::string::npos) scenario<IntKeys>(n, rounds, plan, out);
    if (keys.find("string") != std::string::npos) scenario<StringKeys>(n, rounds, plan, out);
  }
  std::vector<uint32_t> check = permutation(1000, kSeedGetHit);
  std::printf("{\"core\":\"gomap C++ core\",\"compiler\":\"%s\",\"rounds\":%d,\"permCheck\":[", __VERSION__, rounds);
  for (int i = 0; i < 8; ++i) std::printf("%s%u", i ? "," : "", check[i]);
  std::printf("],\n\"results\":[\n%s],\n\"memory\":[\n%s]}\n", out.results.c_str(), out.memory.c_str());
  return 0;
}

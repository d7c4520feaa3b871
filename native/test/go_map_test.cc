// GoMap basic operations, and random operation sequences checked against a model
// (std::unordered_map) for every key kind and every value policy.
#include <algorithm>
#include <memory>

#include "test_util.h"

namespace gomap_test {
namespace {

// ---- basic operations, one by one -------------------------------------------------------

TEST(GoMapBasics, EmptyMapAnswersWithoutAllocating) {
  GoMap<Word64Key, Word64Value> m;
  EXPECT_EQ(m.size(), 0u);
  uint64_t v = 7;
  EXPECT_FALSE(m.get(1, &v));
  EXPECT_EQ(v, 7u);
  EXPECT_FALSE(m.contains(1));
  EXPECT_FALSE(m.erase(1));
  m.clear();
  MapStats s = m.stats();
  EXPECT_EQ(s.bytes, 0u);
  EXPECT_EQ(s.B, 0u);
  EXPECT_EQ(s.buckets, 1u);
  EXPECT_FALSE(s.growing);
  GoMap<Word64Key, Word64Value>::Iterator it(m);
  uint64_t k;
  EXPECT_FALSE(it.next(&k, &v));
}

TEST(GoMapBasics, SetGetOverwriteErase) {
  GoMap<Word64Key, Word64Value> m;
  bool inserted = false;
  ASSERT_EQ(m.set(10, 100, &inserted), Status::kOk);
  EXPECT_TRUE(inserted);
  ASSERT_EQ(m.set(10, 101, &inserted), Status::kOk);
  EXPECT_FALSE(inserted);
  EXPECT_EQ(m.size(), 1u);
  uint64_t v = 0;
  ASSERT_TRUE(m.get(10, &v));
  EXPECT_EQ(v, 101u);
  EXPECT_TRUE(m.get(10, nullptr));

  uint64_t current = 0;
  ASSERT_EQ(m.getOrInsert(10, 555, &current, &inserted), Status::kOk);
  EXPECT_FALSE(inserted);
  EXPECT_EQ(current, 101u);
  ASSERT_EQ(m.getOrInsert(11, 555, &current, &inserted), Status::kOk);
  EXPECT_TRUE(inserted);
  EXPECT_EQ(current, 555u);
  EXPECT_EQ(m.size(), 2u);

  int calls = 0;
  uint64_t removed = 0;
  EXPECT_TRUE(m.erase(10, [&](uint64_t value) {
    ++calls;
    removed = value;
  }));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(removed, 101u);
  EXPECT_FALSE(m.erase(10, [&](uint64_t) { ++calls; }));
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(m.contains(10));
  EXPECT_TRUE(m.contains(11));
  EXPECT_EQ(m.size(), 1u);
}

TEST(GoMapBasics, ExtremeWordKeysAndValues) {
  GoMap<Word64Key, Word64Value> m;
  const uint64_t keys[] = {0, 1, ~uint64_t{0}, uint64_t{1} << 63, 0x7ff8000000000000ull};
  for (uint64_t k : keys) ASSERT_EQ(m.set(k, ~k), Status::kOk);
  for (uint64_t k : keys) {
    uint64_t v;
    ASSERT_TRUE(m.get(k, &v));
    EXPECT_EQ(v, ~k);
  }
  EXPECT_EQ(m.size(), 5u);
}

TEST(GoMapBasics, F64KeyBitsNormalizesZeroAndNaN) {
  EXPECT_EQ(f64KeyBits(-0.0), f64KeyBits(0.0));
  EXPECT_EQ(f64KeyBits(0.0), 0u);
  const double nans[] = {std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::quiet_NaN(),
                         std::numeric_limits<double>::signaling_NaN(), nanWithPayload(12345, false),
                         nanWithPayload(1, true), nanWithPayload(0xfffffffffffffull, true)};
  for (double d : nans) {
    ASSERT_TRUE(std::isnan(d));
    EXPECT_EQ(f64KeyBits(d), 0x7ff8000000000000ull);
  }
  const double others[] = {1.0, -1.0, std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::denorm_min(),
                           -std::numeric_limits<double>::denorm_min(), 1e308, 0.1};
  for (double d : others) {
    EXPECT_EQ(f64KeyBits(d), f64Bits(d));
    EXPECT_EQ(f64KeyBits(d), expectedF64KeyBits(d));
    EXPECT_EQ(bitsToF64(f64KeyBits(d)), d);
  }

  // In a map: -0 finds +0, and every NaN finds every other NaN.
  GoMap<Word64Key, Word64Value> m;
  ASSERT_EQ(m.set(f64KeyBits(-0.0), 1), Status::kOk);
  ASSERT_EQ(m.set(f64KeyBits(nans[0]), 2), Status::kOk);
  uint64_t v;
  ASSERT_TRUE(m.get(f64KeyBits(0.0), &v));
  EXPECT_EQ(v, 1u);
  for (double d : nans) {
    ASSERT_TRUE(m.get(f64KeyBits(d), &v));
    EXPECT_EQ(v, 2u);
  }
  EXPECT_EQ(m.size(), 2u);
}

TEST(GoMapBasics, BlobTagIsPartOfTheKey) {
  GoMap<BlobKey, Word64Value> m;
  // Equal bytes, different tags: different keys, short and long.
  for (const std::string& bytes : {std::string("12345678"), std::string(40, 'x'), std::string()}) {
    for (uint8_t tag = 0; tag < kTagCount; ++tag) {
      bool inserted = false;
      ASSERT_EQ(m.set(blobView(makeBlob(tag, bytes)), tag, &inserted), Status::kOk);
      EXPECT_TRUE(inserted) << "tag " << int(tag) << " len " << bytes.size();
    }
  }
  EXPECT_EQ(m.size(), 3u * kTagCount);
  for (const std::string& bytes : {std::string("12345678"), std::string(40, 'x'), std::string()}) {
    for (uint8_t tag = 0; tag < kTagCount; ++tag) {
      uint64_t v = 99;
      ASSERT_TRUE(m.get(blobView(makeBlob(tag, bytes)), &v));
      EXPECT_EQ(v, tag);
    }
  }
}

TEST(GoMapBasics, BlobInlineAndBoxedBoundary) {
  GoMap<BlobKey, BlobValue> m;
  // Lengths around the inline capacity (12): all distinct keys, including prefixes of
  // each other, and values likewise.
  std::string base(64, '\0');
  for (size_t i = 0; i < base.size(); ++i) base[i] = static_cast<char>('a' + i % 26);
  for (size_t len = 0; len <= 40; ++len) {
    std::string k = makeBlob(kTagLatin1, base.substr(0, len));
    std::string v = makeBlob(kTagBytes, base.substr(len % 7, len));
    ASSERT_EQ(m.set(blobView(k), blobView(v)), Status::kOk);
  }
  ASSERT_EQ(m.size(), 41u);
  for (size_t len = 0; len <= 40; ++len) {
    std::string k = makeBlob(kTagLatin1, base.substr(0, len));
    Blob got{};
    ASSERT_TRUE(m.get(blobView(k), &got)) << "len " << len;
    EXPECT_EQ(blobModel(got), makeBlob(kTagBytes, base.substr(len % 7, len))) << "len " << len;
  }
  // A key equal in its first 12 bytes but longer must not match the 12-byte key.
  EXPECT_FALSE(m.contains(blobView(makeBlob(kTagLatin1, base.substr(0, 12) + "!"))));
  EXPECT_FALSE(m.contains(blobView(makeBlob(kTagLatin1, base.substr(0, 30) + "!"))));
  // Overwrite short <-> long values and check the callback sees the last one.
  std::string k = makeBlob(kTagLatin1, base.substr(0, 20));
  ASSERT_EQ(m.set(blobView(k), blobView(makeBlob(kTagBytes, "short"))), Status::kOk);
  ASSERT_EQ(m.set(blobView(k), blobView(makeBlob(kTagBytes, std::string(100, 'L')))), Status::kOk);
  std::string removed;
  EXPECT_TRUE(m.erase(blobView(k), [&](const Blob& b) { removed = blobModel(b); }));
  EXPECT_EQ(removed, makeBlob(kTagBytes, std::string(100, 'L')));
}

TEST(GoMapBasics, ClearKeepsTheTableSize) {
  GoMap<Word64Key, Word64Value> m;
  for (uint64_t i = 0; i < 1000; ++i) ASSERT_EQ(m.set(i, i), Status::kOk);
  for (int i = 0; i < 300; ++i) ASSERT_EQ(m.set(1000 + i, 0), Status::kOk);  // finish any grow
  MapStats before = m.stats();
  m.clear();
  MapStats after = m.stats();
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(after.B, before.B);
  EXPECT_FALSE(after.growing);
  for (uint64_t i = 0; i < 1300; ++i) ASSERT_FALSE(m.contains(i));
  ASSERT_EQ(m.set(5, 6), Status::kOk);
  uint64_t v;
  ASSERT_TRUE(m.get(5, &v));
  EXPECT_EQ(v, 6u);
}

TEST(GoMapBasics, GetManyMatchesGet) {
  GoMap<BlobKey, Word64Value> m;
  std::vector<std::string> keys;
  for (uint64_t i = 0; i < 3000; ++i) keys.push_back(BlobKeyTraits::make(i));
  for (size_t i = 0; i < keys.size(); i += 2) ASSERT_EQ(m.set(blobView(keys[i]), i), Status::kOk);
  // Batches of every size up to 40 (windows smaller and larger than the prefetch window).
  for (size_t n = 0; n <= 40; ++n) {
    std::vector<Blob> views;
    for (size_t j = 0; j < n; ++j) views.push_back(blobView(keys[(n * 37 + j * 101) % keys.size()]));
    std::vector<uint64_t> out(n, 12345);
    std::unique_ptr<bool[]> found(new bool[n + 1]);
    m.getMany(views.data(), n, out.data(), found.get());
    for (size_t j = 0; j < n; ++j) {
      uint64_t v = 0;
      bool hit = m.get(views[j], &v);
      ASSERT_EQ(found[j], hit) << "n " << n << " j " << j;
      if (hit) {
        EXPECT_EQ(out[j], v);
      }
    }
  }
}

// ---- random operation sequences against a model ------------------------------------------

struct RunConfig {
  uint64_t seed;
  size_t ops;
  bool fixedSeed = true;  // false: the map's hash seed comes from the OS
};

// Counts what a run did, so a broken generator (say, never erasing a present key) shows.
struct RunCounts {
  size_t ops = 0, hits = 0, inserts = 0, erases = 0, clears = 0, shrinks = 0, reserves = 0,
         fullChecks = 0, growsSeen = 0;
};

template <class KT, class VT>
RunCounts runModel(const RunConfig& cfg) {
  using Map = MapOf<KT, VT>;
  using KView = typename KT::Policy::View;
  using VView = typename VT::Policy::View;
  MapOptions opts;
  opts.fixedSeed = cfg.fixedSeed;
  opts.seed = cfg.seed;
  Map m(opts);
  ModelOf<KT, VT> model;
  Rng r(cfg.seed * 1000003 + 17);
  RunCounts counts;

  // Phases: each picks a key universe and an insert/erase balance, so the map grows,
  // shrinks and churns through small and large sizes (and through incremental grows).
  static const uint64_t kUniverses[] = {8, 64, 700, 5000, 30000};
  size_t phaseLeft = 0;
  uint64_t universe = 8;
  unsigned setPct = 30, erasePct = 15;
  uint64_t lastGrows = 0;

  auto key = [&]() { return KT::make(r.below(universe)); };
  const size_t checkEvery = 20000;

  for (size_t op = 0; op < cfg.ops; ++op) {
    if (phaseLeft == 0) {
      phaseLeft = 2000 + r.below(30000);
      universe = kUniverses[r.below(sizeof kUniverses / sizeof kUniverses[0])];
      switch (r.below(3)) {
        case 0: setPct = 45, erasePct = 5; break;   // growing
        case 1: setPct = 10, erasePct = 40; break;  // shrinking
        default: setPct = 25, erasePct = 25; break; // churn
      }
    }
    --phaseLeft;
    uint64_t dice = r.below(1000);
    // Per mille thresholds: set, getOrInsert, erase, get, contains, getMany, rare ops.
    uint64_t tSet = setPct * 10 * 3 / 4, tGoi = setPct * 10, tErase = tGoi + erasePct * 10;
    if (dice < tSet) {
      auto k = key();
      auto v = VT::random(r);
      bool inserted = false;
      if (m.set(KT::view(k), VT::view(v), &inserted) != Status::kOk) {
        ADD_FAILURE() << "set failed";
        return counts;
      }
      auto [it, isNew] = model.insert_or_assign(k, v);
      (void)it;
      if (inserted != isNew) {
        ADD_FAILURE() << "set: inserted=" << inserted << " model says " << isNew << " for " << KT::describe(k);
        return counts;
      }
      counts.inserts += isNew;
    } else if (dice < tGoi) {
      auto k = key();
      auto v = VT::random(r);
      VView current{};
      bool inserted = false;
      if (m.getOrInsert(KT::view(k), VT::view(v), &current, &inserted) != Status::kOk) {
        ADD_FAILURE() << "getOrInsert failed";
        return counts;
      }
      auto [it, isNew] = model.try_emplace(k, v);
      if (inserted != isNew || !(VT::fromView(current) == it->second)) {
        ADD_FAILURE() << "getOrInsert mismatch for " << KT::describe(k);
        return counts;
      }
      counts.inserts += isNew;
    } else if (dice < tErase) {
      auto k = key();
      int calls = 0;
      typename VT::Model removed{};
      bool erased = m.erase(KT::view(k), [&](const VView& v) {
        ++calls;
        removed = VT::fromView(v);
      });
      auto it = model.find(k);
      if (erased != (it != model.end())) {
        ADD_FAILURE() << "erase returned " << erased << " for " << KT::describe(k);
        return counts;
      }
      if (erased) {
        if (calls != 1 || !(removed == it->second)) {
          ADD_FAILURE() << "erase callback: calls " << calls << " for " << KT::describe(k);
          return counts;
        }
        model.erase(it);
        ++counts.erases;
      } else if (calls != 0) {
        ADD_FAILURE() << "erase of a missing key called back";
        return counts;
      }
    } else if (dice < 900) {
      auto k = key();
      VView got{};
      bool hit = m.get(KT::view(k), &got);
      auto it = model.find(k);
      if (hit != (it != model.end()) || (hit && !(VT::fromView(got) == it->second))) {
        ADD_FAILURE() << "get mismatch for " << KT::describe(k) << " hit " << hit;
        return counts;
      }
      counts.hits += hit;
    } else if (dice < 960) {
      auto k = key();
      if (m.contains(KT::view(k)) != (model.count(k) != 0)) {
        ADD_FAILURE() << "contains mismatch for " << KT::describe(k);
        return counts;
      }
    } else if (dice < 995) {
      size_t n = r.below(33);
      std::vector<typename KT::Model> ks;
      for (size_t j = 0; j < n; ++j) ks.push_back(key());
      std::vector<KView> views;
      for (const auto& k : ks) views.push_back(KT::view(k));
      std::vector<VView> out(n);
      std::unique_ptr<bool[]> found(new bool[n + 1]);
      m.getMany(views.data(), n, out.data(), found.get());
      for (size_t j = 0; j < n; ++j) {
        auto it = model.find(ks[j]);
        if (found[j] != (it != model.end()) || (found[j] && !(VT::fromView(out[j]) == it->second))) {
          ADD_FAILURE() << "getMany mismatch at " << j << " for " << KT::describe(ks[j]);
          return counts;
        }
      }
    } else {
      // Rare whole-table operations.
      uint64_t which = r.below(20);
      if (which == 0) {
        m.clear();
        model.clear();
        ++counts.clears;
      } else if (which < 8) {
        MapStats before = m.stats();
        if (m.shrink() != Status::kOk) {
          ADD_FAILURE() << "shrink failed";
          return counts;
        }
        MapStats after = m.stats();
        if (after.growing || after.B != std::min(before.B, map_detail::bucketBitsFor(model.size()))) {
          ADD_FAILURE() << "shrink: B " << after.B << " for " << model.size() << " entries (was " << before.B << ")";
          return counts;
        }
        ++counts.shrinks;
      } else {
        uint64_t n = model.size() + r.below(5000);
        if (m.reserve(n) != Status::kOk) {
          ADD_FAILURE() << "reserve failed";
          return counts;
        }
        if (m.stats().B < map_detail::bucketBitsFor(n)) {
          ADD_FAILURE() << "reserve(" << n << ") left B at " << m.stats().B;
          return counts;
        }
        ++counts.reserves;
      }
    }
    ++counts.ops;
    if (m.size() != model.size()) {
      ADD_FAILURE() << "size " << m.size() << " != model " << model.size() << " after op " << op;
      return counts;
    }
    expectStatsInvariants(m);
    if (::testing::Test::HasFatalFailure()) return counts;
    MapStats s = m.stats();
    if (s.grows != lastGrows) {
      counts.growsSeen += s.grows - lastGrows;
      lastGrows = s.grows;
    }
    if (op % checkEvery == checkEvery - 1 || (phaseLeft == 0 && model.size() < 20000)) {
      expectSameContents<KT, VT>(m, model);
      if (::testing::Test::HasFatalFailure()) return counts;
      ++counts.fullChecks;
    }
  }
  expectSameContents<KT, VT>(m, model);
  ++counts.fullChecks;
  return counts;
}

template <class KT, class VT>
void runSeeds(std::initializer_list<uint64_t> seeds, size_t opsPerSeed) {
  for (uint64_t seed : seeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RunCounts c = runModel<KT, VT>(RunConfig{seed, opsPerSeed});
    if (::testing::Test::HasFailure()) return;
    ASSERT_EQ(c.ops, opsPerSeed);
    // The generator must really have exercised the map.
    EXPECT_GT(c.hits, opsPerSeed / 50);
    EXPECT_GT(c.inserts, opsPerSeed / 50);
    EXPECT_GT(c.erases, opsPerSeed / 50);
    EXPECT_GT(c.growsSeen, 3u);
    EXPECT_GT(c.shrinks + c.reserves, 0u);
    EXPECT_GT(c.fullChecks, 2u);
    ::testing::Test::RecordProperty("ops_seed_" + std::to_string(seed), static_cast<int>(c.ops));
  }
}

// Operation counts per test: 3 seeds x kOps (10 tests: 2.8M operations, each checked
// against the model, plus periodic full comparisons). Keep the whole file well under a
// minute under ASan+UBSan.
constexpr size_t kOps = 100000;

TEST(GoMapModel, I64KeysI64Values) { runSeeds<U64Key, U64Val>({1, 2, 3}, kOps); }
TEST(GoMapModel, F64KeysI64Values) { runSeeds<F64Key, U64Val>({4, 5, 6}, kOps); }
TEST(GoMapModel, I64KeysSlabValues) { runSeeds<U64Key, SlabVal>({7, 8, 9}, kOps); }
TEST(GoMapModel, I64KeysShortBlobValues) { runSeeds<U64Key, ShortBlobValTraits>({10, 11, 12}, kOps); }
TEST(GoMapModel, F64KeysLongBlobValues) { runSeeds<F64Key, LongBlobValTraits>({13, 14, 15}, kOps); }
TEST(GoMapModel, BlobKeysI64Values) { runSeeds<BlobKeyTraits, U64Val>({16, 17, 18}, kOps); }
TEST(GoMapModel, BlobKeysSlabValues) { runSeeds<BlobKeyTraits, SlabVal>({19, 20, 21}, kOps); }
TEST(GoMapModel, BlobKeysBlobValues) { runSeeds<BlobKeyTraits, BlobValTraits>({22, 23, 24}, kOps); }
TEST(GoMapModel, LongBlobKeysShortBlobValues) { runSeeds<LongBlobKeyTraits, ShortBlobValTraits>({25, 26, 27}, kOps); }

// The default (OS entropy) seed: same behaviour, different hash seed each run.
TEST(GoMapModel, EntropySeededMap) {
  RunCounts c = runModel<BlobKeyTraits, U64Val>(RunConfig{28, kOps, false});
  EXPECT_EQ(c.ops, kOps);
}

}  // namespace
}  // namespace gomap_test

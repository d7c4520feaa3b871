// Growth: doubling grows are incremental (old buckets stay readable, each write evacuates
// a bounded amount), and same-size grows compact overflow chains left by churn.
#include <algorithm>
#include <memory>
#include <type_traits>

#include "test_util.h"

namespace gomap_test {
namespace {

// Every model key is found with its value through get, contains and getMany.
template <class KT, class VT>
void expectAllFound(const MapOf<KT, VT>& m, const ModelOf<KT, VT>& model) {
  std::vector<typename KT::Policy::View> views;
  std::vector<typename VT::Model> want;
  for (const auto& [k, v] : model) {
    typename VT::Policy::View got{};
    ASSERT_TRUE(m.get(KT::view(k), &got)) << "key " << KT::describe(k) << " lost";
    ASSERT_TRUE(VT::fromView(got) == v);
    ASSERT_TRUE(m.contains(KT::view(k)));
    views.push_back(KT::view(k));
    want.push_back(v);
  }
  std::vector<typename VT::Policy::View> out(views.size());
  std::unique_ptr<bool[]> found(new bool[views.size() + 1]);
  m.getMany(views.data(), views.size(), out.data(), found.get());
  for (size_t i = 0; i < views.size(); ++i) {
    ASSERT_TRUE(found[i]);
    ASSERT_TRUE(VT::fromView(out[i]) == want[i]);
  }
}

// Inserts keys until a doubling grow starts from a table of at least 2^minB buckets, then
// follows that grow write by write: it is incremental, every key stays reachable, and it
// ends after at most oldBuckets writes. `eraseWrites` makes the writes deletes. Every key
// is checked after every write when fullCheckEvery is 1; otherwise after every
// fullCheckEvery-th write, and a random sample of 64 keys after each of the others.
template <class KT, class VT>
void followOneDoublingGrow(unsigned minB, bool eraseWrites, uint64_t seed, uint64_t fullCheckEvery = 1) {
  MapOptions opts;
  opts.fixedSeed = true;
  opts.seed = seed;
  MapOf<KT, VT> m(opts);
  ModelOf<KT, VT> model;
  Rng r(seed);
  uint64_t next = 0;
  auto insertOne = [&]() {
    auto k = KT::make(next++);
    auto v = VT::random(r);
    ASSERT_EQ(m.set(KT::view(k), VT::view(v)), Status::kOk);
    model.insert_or_assign(k, v);
  };

  // Fill until the insert that starts a grow from B >= minB.
  for (;;) {
    MapStats before = m.stats();
    ASSERT_NO_FATAL_FAILURE(insertOne());
    MapStats after = m.stats();
    if (after.grows == before.grows) {
      ASSERT_FALSE(after.growing && !before.growing) << "a grow started without counting";
      continue;
    }
    ASSERT_EQ(after.grows, before.grows + 1);
    if (before.B < minB) {
      // Let this smaller grow finish before looking for the next one.
      while (m.stats().growing) ASSERT_NO_FATAL_FAILURE(insertOne());
      continue;
    }
    // Right after the insert that started it: the grow is under way, not done.
    ASSERT_FALSE(before.growing);
    ASSERT_TRUE(after.growing);
    ASSERT_EQ(after.B, before.B + 1);
    ASSERT_EQ(after.oldBuckets, before.buckets);
    ASSERT_EQ(after.buckets, 2 * before.buckets);
    ASSERT_LT(after.evacuated, after.oldBuckets);
    ASSERT_LE(after.evacuated, 2u) << "the starting insert evacuates at most two old buckets";
    ASSERT_EQ(after.count, before.count + 1);
    // The load that triggered it: more than 6.5 per bucket of the old table.
    ASSERT_GT(static_cast<double>(after.count), 6.5 * static_cast<double>(before.buckets));
    break;
  }
  ASSERT_NO_FATAL_FAILURE((expectAllFound<KT, VT>(m, model)));

  const MapStats start = m.stats();
  uint64_t lastEvacuated = start.evacuated;
  uint64_t writes = 0;
  std::vector<typename KT::Model> keys;
  for (const auto& kv : model) keys.push_back(kv.first);
  while (m.stats().growing) {
    // Reads never move anything.
    MapStats beforeReads = m.stats();
    if (writes % fullCheckEvery == 0) {
      ASSERT_NO_FATAL_FAILURE((expectAllFound<KT, VT>(m, model)));
    } else {
      for (int i = 0; i < 64 && !keys.empty(); ++i) {
        const auto& k = keys[r.below(keys.size())];
        typename VT::Policy::View got{};
        ASSERT_TRUE(m.get(KT::view(k), &got)) << "key " << KT::describe(k) << " lost";
        ASSERT_TRUE(VT::fromView(got) == model.at(k));
      }
    }
    MapStats afterReads = m.stats();
    ASSERT_EQ(afterReads.evacuated, beforeReads.evacuated);
    ASSERT_TRUE(afterReads.growing);

    if (eraseWrites) {
      ASSERT_FALSE(keys.empty());
      size_t i = r.below(keys.size());
      std::swap(keys[i], keys.back());
      ASSERT_TRUE(m.erase(KT::view(keys.back())));
      model.erase(keys.back());
      keys.pop_back();
    } else {
      ASSERT_NO_FATAL_FAILURE(insertOne());
      keys.push_back(KT::make(next - 1));
    }
    ++writes;
    MapStats s = m.stats();
    ASSERT_NO_FATAL_FAILURE(expectStatsInvariants(m));
    ASSERT_EQ(s.grows, start.grows) << "no new grow may start while one is under way";
    ASSERT_EQ(s.sameSizeGrows, start.sameSizeGrows);
    if (s.growing) {
      ASSERT_EQ(s.B, start.B);
      ASSERT_EQ(s.oldBuckets, start.oldBuckets);
      ASSERT_GE(s.evacuated, lastEvacuated) << "evacuated went backwards";
      ASSERT_GT(s.evacuated, 0u);
      lastEvacuated = s.evacuated;
    }
    // Each write advances the evacuation mark by at least one bucket.
    ASSERT_LE(writes, start.oldBuckets) << "grow did not finish within oldBuckets writes";
  }
  ASSERT_GT(writes, start.oldBuckets / 4) << "the grow was not incremental: it finished after " << writes
                                           << " writes for " << start.oldBuckets << " old buckets";
  MapStats done = m.stats();
  ASSERT_EQ(done.B, start.B);
  ASSERT_EQ(done.oldBuckets, 0u);
  ASSERT_EQ(done.evacuated, 0u);
  ASSERT_NO_FATAL_FAILURE((expectSameContents<KT, VT>(m, model)));
}

TEST(GoMapGrowth, DoublingIsIncrementalAtB8) { followOneDoublingGrow<U64Key, U64Val>(8, false, 1); }
TEST(GoMapGrowth, DoublingIsIncrementalAtB11) { followOneDoublingGrow<U64Key, U64Val>(11, false, 2, 32); }
TEST(GoMapGrowth, DoublingIsIncrementalWithDeletesAsWrites) { followOneDoublingGrow<U64Key, SlabVal>(9, true, 3); }
TEST(GoMapGrowth, DoublingIsIncrementalWithLongBlobKeysAndValues) {
  followOneDoublingGrow<LongBlobKeyTraits, LongBlobValTraits>(8, false, 4, 4);
}
TEST(GoMapGrowth, DoublingIsIncrementalWithMixedBlobKeys) {
  followOneDoublingGrow<BlobKeyTraits, BlobValTraits>(8, true, 5);
}

// Overwrites of existing keys are writes too: they evacuate and finish the grow.
TEST(GoMapGrowth, OverwritesDriveEvacuation) {
  GoMap<Word64Key, Word64Value> m;
  uint64_t n = 0;
  while (!(m.stats().growing && m.stats().B >= 9)) ASSERT_EQ(m.set(n++, 0), Status::kOk);
  const MapStats start = m.stats();
  uint64_t writes = 0;
  while (m.stats().growing) {
    bool inserted = true;
    ASSERT_EQ(m.set(writes % n, writes, &inserted), Status::kOk);
    ASSERT_FALSE(inserted);
    ++writes;
    ASSERT_LE(writes, start.oldBuckets);
  }
  EXPECT_EQ(m.size(), n);
  for (uint64_t i = 0; i < n; ++i) ASSERT_TRUE(m.contains(i));
}

// ---- same-size grow ---------------------------------------------------------------------

// Forces collisions: only the low 3 bits of the bucket index vary, so at B >= 3 every key
// lands in one of buckets 0..7 and chains get long. The top byte (tophash) is kept. The
// override also records the hash it returns, so a test can learn a key's bucket by
// looking the key up (one lookup hashes the key once).
uint64_t g_lastHash = 0;
uint64_t eightChains(uint64_t h) {
  g_lastHash = (h & 0xff00000000000000ull) | (h & 7);
  return g_lastHash;
}

// The chain (0..7) a key lands in under eightChains, learned by looking it up.
template <class M, class KView>
uint64_t chainOf(const M& m, const KView& key) {
  g_lastHash = ~uint64_t{0};
  (void)m.contains(key);
  EXPECT_NE(g_lastHash, ~uint64_t{0}) << "contains() did not hash the key";
  return g_lastHash & 7;
}

// Unique keys of the kind KT, numbered from 0: words for U64Key, long blobs otherwise.
template <class KT>
typename KT::Model uniqueKey(uint64_t i) {
  if constexpr (std::is_same_v<typename KT::Model, uint64_t>) {
    return i * 0x9e3779b97f4a7c15ull + 1;
  } else {
    return longKey(i);
  }
}

// Deletes leave holes in the overflow buckets of one chain while inserts lengthen another:
// the overflow count climbs to Go's tooManyOverflowBuckets limit at a load far below 6.5,
// a same-size grow starts, and when it finishes the chains are compacted.
template <class KT, class VT>
void sameSizeGrowCompactsChains(uint64_t seed, uint64_t chainA, uint64_t chainB) {
  MapOptions opts;
  opts.fixedSeed = true;
  opts.seed = seed;
  opts.hashOverride = eightChains;
  MapOf<KT, VT> m(opts);
  ModelOf<KT, VT> model;
  Rng r(seed);
  ASSERT_EQ(m.init(1600), Status::kOk);
  const unsigned B = m.stats().B;
  ASSERT_EQ(B, 8u);
  const uint64_t limit = uint64_t{1} << B;  // tooManyOverflowBuckets at B = 8

  uint64_t next = 0;
  // Fresh keys that land in chain c.
  auto freshKeyIn = [&](uint64_t c) {
    for (;;) {
      auto k = uniqueKey<KT>(next++);
      if (chainOf(m, KT::view(k)) == c) return k;
    }
  };
  auto insert = [&](const typename KT::Model& k) {
    auto v = VT::random(r);
    bool inserted = false;
    ASSERT_EQ(m.set(KT::view(k), VT::view(v), &inserted), Status::kOk);
    ASSERT_TRUE(inserted);
    model.emplace(k, v);
  };

  // 1. Lengthen chain A: 1000 entries, 125 buckets.
  std::vector<typename KT::Model> inA;
  for (int i = 0; i < 1000; ++i) {
    inA.push_back(freshKeyIn(chainA));
    ASSERT_NO_FATAL_FAILURE(insert(inA.back()));
  }
  MapStats s = m.stats();
  ASSERT_FALSE(s.growing);
  ASSERT_EQ(s.overflowBuckets, 124u);
  // 2. Delete most of chain A, in random order (its overflow buckets stay, with holes).
  for (size_t i = 0; i + 10 < inA.size(); ++i) {
    size_t j = i + r.below(inA.size() - i);
    std::swap(inA[i], inA[j]);
    typename VT::Model removed{};
    ASSERT_TRUE(m.erase(KT::view(inA[i]), [&](const typename VT::Policy::View& v) { removed = VT::fromView(v); }));
    ASSERT_TRUE(removed == model.at(inA[i]));
    model.erase(inA[i]);
  }
  ASSERT_EQ(m.stats().overflowBuckets, s.overflowBuckets) << "deletes do not free overflow buckets (Go)";
  // 3. Lengthen chain B until a same-size grow starts.
  MapStats before, after;
  int inserts = 0;
  for (;;) {
    before = m.stats();
    ASSERT_NO_FATAL_FAILURE(insert(freshKeyIn(chainB)));
    after = m.stats();
    ++inserts;
    ASSERT_NO_FATAL_FAILURE(expectStatsInvariants(m));
    ASSERT_EQ(after.grows, 0u);
    if (after.sameSizeGrows != before.sameSizeGrows) break;
    ASSERT_LT(inserts, 1200) << "no same-size grow with " << after.overflowBuckets << " overflow buckets";
  }
  ASSERT_EQ(after.sameSizeGrows, 1u);
  ASSERT_TRUE(after.growing);
  ASSERT_FALSE(before.growing);
  ASSERT_EQ(after.B, B);
  ASSERT_EQ(after.oldBuckets, after.buckets);
  ASSERT_EQ(before.overflowBuckets, limit) << "tooManyOverflowBuckets: as many overflow buckets as buckets";
  ASSERT_LT(after.loadFactor, 6.5 / 8);
  // 4. Finish it with more inserts into chain B (every key checked along the way).
  int writes = 0;
  while (m.stats().growing) {
    ASSERT_NO_FATAL_FAILURE(insert(freshKeyIn(chainB)));
    if (++writes % 16 == 0) {
      ASSERT_NO_FATAL_FAILURE((expectAllFound<KT, VT>(m, model)));
    }
    ASSERT_LE(writes, static_cast<int>(limit));
  }
  // The chains are compacted: a chain of n entries now uses exactly ceil(n/8) buckets
  // (evacuation packs them, and the later inserts append), where chain A had 125.
  uint64_t perChain[8] = {};
  for (const auto& kv : model) ++perChain[chainOf(m, KT::view(kv.first))];
  uint64_t expectedOverflow = 0;
  for (uint64_t n : perChain) expectedOverflow += n > 8 ? (n + 7) / 8 - 1 : 0;
  MapStats done = m.stats();
  EXPECT_EQ(done.overflowBuckets, expectedOverflow);
  EXPECT_LT(done.overflowBuckets + 64, before.overflowBuckets) << "chain A's holes were not reclaimed";
  EXPECT_EQ(done.sameSizeGrows, 1u);
  EXPECT_EQ(done.grows, 0u);
  ASSERT_NO_FATAL_FAILURE((expectSameContents<KT, VT>(m, model)));
}

TEST(GoMapSameSizeGrow, CompactsChainsWithWordKeys) {
  sameSizeGrowCompactsChains<U64Key, U64Val>(11, 0, 1);
  sameSizeGrowCompactsChains<U64Key, SlabVal>(12, 7, 3);
}
TEST(GoMapSameSizeGrow, CompactsChainsWithLongBlobKeys) {
  sameSizeGrowCompactsChains<LongBlobKeyTraits, BlobValTraits>(13, 5, 2);
}

// growWork evacuates the old bucket of the key being written and then the one at the
// evacuation mark. When both are the same bucket, evacuating it advances the mark, and
// the second evacuation takes the next unevacuated bucket: the spare overflow buckets
// reserved before the evacuation must cover that bucket's chain too. Here the first old
// bucket holds a short chain and the second a long one (about 13 buckets).
template <bool kEraseAsTheWrite>
void growWorkHasSparesForTheNextBucket() {
  MapOptions opts;
  opts.fixedSeed = true;
  opts.seed = 77;
  opts.hashOverride = eightChains;
  GoMap<Word64Key, Word64Value> m(opts);
  ASSERT_EQ(m.init(104), Status::kOk);
  ASSERT_EQ(m.stats().B, 4u);  // 16 buckets, 104 entries before the next grow
  std::unordered_map<uint64_t, uint64_t> model;
  uint64_t next = 1;
  auto freshIn = [&](uint64_t c) {
    for (;; ++next) {
      if (chainOf(m, next) == c) return next++;
    }
  };
  auto insertIn = [&](uint64_t c) {
    uint64_t k = freshIn(c);
    ASSERT_EQ(m.set(k, k), Status::kOk);
    model[k] = k;
  };
  // Insert: the grow-starting insert lands in old bucket 0 (short chain) where the mark
  // is; old bucket 1 holds the long chain. Erase: an insert into old bucket 2 starts the
  // grow (evacuating 2, then 0, which moves the mark to 1); then a delete in old bucket 1
  // (short chain) is followed by the evacuation of old bucket 3 (the long chain).
  const uint64_t shortChain = kEraseAsTheWrite ? 1 : 0, longChain = kEraseAsTheWrite ? 3 : 1;
  for (int i = 0; i < 100; ++i) ASSERT_NO_FATAL_FAILURE(insertIn(longChain));
  for (int i = 0; i < 4; ++i) ASSERT_NO_FATAL_FAILURE(insertIn(shortChain));
  ASSERT_FALSE(m.stats().growing);
  ASSERT_EQ(m.stats().grows, 0u);
  if (kEraseAsTheWrite) {
    ASSERT_NO_FATAL_FAILURE(insertIn(2));
    ASSERT_TRUE(m.stats().growing);
    ASSERT_EQ(m.stats().evacuated, 2u);  // old buckets 2 and 0
    uint64_t victim = 0;
    for (const auto& kv : model) {
      if (chainOf(m, kv.first) == shortChain) victim = kv.first;
    }
    ASSERT_NE(victim, 0u);
    ASSERT_TRUE(m.erase(victim));
    model.erase(victim);
    ASSERT_EQ(m.stats().evacuated, 4u);  // and now 1 and 3
  } else {
    ASSERT_NO_FATAL_FAILURE(insertIn(shortChain));
    ASSERT_EQ(m.stats().evacuated, 2u);  // old buckets 0 and 1
  }
  ASSERT_TRUE(m.stats().growing);
  ASSERT_NO_FATAL_FAILURE((expectSameContents<U64Key, U64Val>(m, model)));
}

TEST(GoMapGrowth, GrowWorkReservesSparesForTheNextBucketOnInsert) { growWorkHasSparesForTheNextBucket<false>(); }
TEST(GoMapGrowth, GrowWorkReservesSparesForTheNextBucketOnErase) { growWorkHasSparesForTheNextBucket<true>(); }

// Without any forced collisions: Go's known behaviour under long insert/delete churn at a
// high, constant load. Every chain that ever overflowed keeps its overflow bucket, so the
// count creeps up to the limit and a same-size grow cleans up.
TEST(GoMapSameSizeGrow, NaturalChurnAtHighLoad) {
  MapOptions opts;
  opts.fixedSeed = true;
  opts.seed = 31;
  GoMap<Word64Key, Word64Value> m(opts);
  std::unordered_map<uint64_t, uint64_t> model;
  std::vector<uint64_t> keys;
  Rng r(31);
  const unsigned B = 6;
  const uint64_t live = 13 * (uint64_t{1} << B) / 2;  // exactly 6.5 per bucket: no doubling
  uint64_t next = 1;
  for (uint64_t i = 0; i < live; ++i) {
    ASSERT_EQ(m.set(next, next), Status::kOk);
    model[next] = next;
    keys.push_back(next++);
  }
  while (m.stats().growing) {  // finish the last doubling with overwrites
    ASSERT_EQ(m.set(keys[0], keys[0]), Status::kOk);
  }
  ASSERT_EQ(m.stats().B, B);
  const uint64_t grows = m.stats().grows;
  uint64_t overflowBefore = 0;
  int finished = 0;
  for (int step = 0; step < 400000 && finished < 2; ++step) {
    size_t i = r.below(keys.size());
    ASSERT_TRUE(m.erase(keys[i]));
    model.erase(keys[i]);
    keys[i] = next++;
    MapStats before = m.stats();
    ASSERT_EQ(m.set(keys[i], keys[i]), Status::kOk);
    model[keys[i]] = keys[i];
    MapStats after = m.stats();
    ASSERT_EQ(after.grows, grows);
    if (after.sameSizeGrows != before.sameSizeGrows) overflowBefore = before.overflowBuckets;
    if (before.growing && !after.growing && overflowBefore != 0) {
      EXPECT_LT(after.overflowBuckets, overflowBefore);
      overflowBefore = 0;
      ++finished;
      ASSERT_NO_FATAL_FAILURE((expectSameContents<U64Key, U64Val>(m, model)));
    }
  }
  EXPECT_EQ(finished, 2) << "no same-size grow after long churn";
  ASSERT_NO_FATAL_FAILURE((expectSameContents<U64Key, U64Val>(m, model)));
}

// Collisions forced into very few buckets while the map grows and shrinks: doubling and
// same-size grows interleave, with long chains evacuated into X and Y halves.
uint64_t fourBuckets(uint64_t h) { return h & ~uint64_t{0xfffc}; }
uint64_t oneBucketKeepTop(uint64_t h) { return h & 0xff00000000000000ull; }

template <uint64_t (*Override)(uint64_t)>
void churnWithOverride(uint64_t seed, uint64_t universe, size_t ops) {
  MapOptions opts;
  opts.fixedSeed = true;
  opts.seed = seed;
  opts.hashOverride = Override;
  GoMap<BlobKey, Word64Value> m(opts);
  std::unordered_map<std::string, uint64_t> model;
  Rng r(seed);
  for (size_t op = 0; op < ops; ++op) {
    std::string k = BlobKeyTraits::make(r.below(universe));
    // Phases of mostly inserts then mostly deletes.
    bool insertPhase = (op / 3000) % 2 == 0;
    if (r.chance(insertPhase ? 75 : 25)) {
      uint64_t v = r.next();
      ASSERT_EQ(m.set(blobView(k), v), Status::kOk);
      model[k] = v;
    } else {
      bool erased = m.erase(blobView(k));
      ASSERT_EQ(erased, model.erase(k) == 1);
    }
    ASSERT_EQ(m.size(), model.size());
    if (op % 500 == 0) {
      ASSERT_NO_FATAL_FAILURE(expectStatsInvariants(m));
      ASSERT_NO_FATAL_FAILURE((expectSameContents<BlobKeyTraits, U64Val>(m, model)));
    }
  }
  ASSERT_NO_FATAL_FAILURE((expectSameContents<BlobKeyTraits, U64Val>(m, model)));
  EXPECT_GT(m.stats().sameSizeGrows + m.stats().grows, 2u);
}

TEST(GoMapSameSizeGrow, ChurnInFourBuckets) { churnWithOverride<fourBuckets>(21, 600, 40000); }
TEST(GoMapSameSizeGrow, ChurnInOneBucket) { churnWithOverride<oneBucketKeepTop>(22, 150, 20000); }

}  // namespace
}  // namespace gomap_test

namespace gomap_test {
namespace {

// A big table at Go's normal load (6.1 entries per bucket at B = 18) has tens of
// thousands of overflow buckets, but far fewer than buckets: no same-size grow may start,
// only doublings. (Regression: comparing the exact overflow count with Go's sampled-counter
// limit 2^15 started same-size grows here and doubled the table's memory.)
TEST(GoMapGrowth, BigTableAtNormalLoadDoesNotSameSizeGrow) {
  MapOptions opts;
  opts.fixedSeed = true;
  opts.seed = 99;
  MapOf<U64Key, U64Val> m(opts);
  const uint64_t n = 1600000;
  for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(m.set(i, i), Status::kOk);
  MapStats s = m.stats();
  EXPECT_EQ(s.B, 18u);
  EXPECT_GT(s.overflowBuckets, uint64_t{1} << 15);
  EXPECT_LT(s.overflowBuckets, s.buckets);
  EXPECT_EQ(s.sameSizeGrows, 0u);
  EXPECT_EQ(s.grows, 18u);
}

}  // namespace
}  // namespace gomap_test

// Sizing: a hint pre-sizes so that `hint` inserts never grow; reserve(n) grows at once;
// shrink() rebuilds to the smallest table that fits. All visible in stats().
#include <algorithm>
#include <vector>

#include "test_util.h"

namespace gomap_test {
namespace {

using map_detail::bucketBitsFor;
using map_detail::overLoadFactor;

TEST(GoMapSizing, BucketBitsForFollowsGosLoadFactor) {
  // One bucket holds 8; from then on 6.5 per bucket.
  EXPECT_EQ(bucketBitsFor(0), 0u);
  EXPECT_EQ(bucketBitsFor(1), 0u);
  EXPECT_EQ(bucketBitsFor(8), 0u);
  EXPECT_EQ(bucketBitsFor(9), 1u);
  EXPECT_EQ(bucketBitsFor(13), 1u);
  EXPECT_EQ(bucketBitsFor(14), 2u);
  EXPECT_EQ(bucketBitsFor(26), 2u);
  EXPECT_EQ(bucketBitsFor(27), 3u);
  EXPECT_EQ(bucketBitsFor(52), 3u);
  EXPECT_EQ(bucketBitsFor(53), 4u);
  for (unsigned k = 1; k < 36; ++k) {
    uint64_t boundary = 13 * (uint64_t{1} << k) / 2;  // 6.5 * 2^k
    EXPECT_EQ(bucketBitsFor(boundary), k) << "6.5*2^" << k;
    EXPECT_EQ(bucketBitsFor(boundary + 1), k + 1) << "6.5*2^" << k << "+1";
    EXPECT_FALSE(overLoadFactor(boundary, k));
    EXPECT_TRUE(overLoadFactor(boundary + 1, k));
  }
}

// Hints to try: small values, every 6.5*2^k boundary and its neighbours, some others.
std::vector<uint64_t> hintValues() {
  std::vector<uint64_t> hints;
  for (uint64_t h = 1; h <= 30; ++h) hints.push_back(h);
  for (unsigned k = 2; k <= 14; ++k) {
    uint64_t boundary = 13 * (uint64_t{1} << k) / 2;
    for (uint64_t h : {boundary - 1, boundary, boundary + 1}) hints.push_back(h);
  }
  for (uint64_t h : {100, 1000, 1234, 4097, 20000, 65536, 100000}) hints.push_back(h);
  std::sort(hints.begin(), hints.end());
  hints.erase(std::unique(hints.begin(), hints.end()), hints.end());
  return hints;
}

template <class KT>
void hintMeansNoGrow(uint64_t hint, uint64_t seed) {
  MapOptions opts;
  opts.fixedSeed = true;
  opts.seed = seed;
  opts.hint = hint;  // recorded in the options; init() applies it
  MapOf<KT, U64Val> m(opts);
  ASSERT_EQ(m.init(hint), Status::kOk);
  const MapStats s0 = m.stats();
  ASSERT_EQ(s0.B, bucketBitsFor(hint)) << "hint " << hint;
  // The table is no bigger than needed: one size down would overflow the load factor.
  if (s0.B > 0) {
    ASSERT_TRUE(overLoadFactor(hint, s0.B - 1)) << "hint " << hint << " over-sized to B=" << s0.B;
  }
  ASSERT_GT(s0.bytes, 0u);
  for (uint64_t i = 0; i < hint; ++i) {
    bool inserted = false;
    ASSERT_EQ(m.set(KT::view(KT::make(i)), i, &inserted), Status::kOk);
    ASSERT_TRUE(inserted);
    MapStats s = m.stats();
    ASSERT_EQ(s.grows, 0u) << "hint " << hint << ": grew at insert " << i + 1;
    ASSERT_EQ(s.B, s0.B);
    ASSERT_FALSE(s.growing);
  }
  ASSERT_EQ(m.size(), hint);
  EXPECT_EQ(m.stats().sameSizeGrows, 0u);
  // One more than fits grows, unless the hint was rounded up past it.
  ASSERT_EQ(m.set(KT::view(KT::make(hint)), 0), Status::kOk);
  EXPECT_EQ(m.stats().grows, overLoadFactor(hint + 1, s0.B) ? 1u : 0u) << "hint " << hint;
  for (uint64_t i = 0; i <= hint; ++i) ASSERT_TRUE(m.contains(KT::view(KT::make(i))));
}

// Distinct keys for hint tests (U64Key::make is injective; longKey too).
struct DistinctLongKeys : LongBlobKeyTraits {};

TEST(GoMapSizing, HintMeansNoGrowWordKeys) {
  for (uint64_t hint : hintValues()) {
    SCOPED_TRACE("hint " + std::to_string(hint));
    ASSERT_NO_FATAL_FAILURE(hintMeansNoGrow<U64Key>(hint, hint));
  }
}

TEST(GoMapSizing, HintMeansNoGrowBlobKeys) {
  for (uint64_t hint : hintValues()) {
    if (hint > 20000) continue;
    SCOPED_TRACE("hint " + std::to_string(hint));
    ASSERT_NO_FATAL_FAILURE(hintMeansNoGrow<DistinctLongKeys>(hint, hint + 1));
  }
}

TEST(GoMapSizing, HintZeroAllocatesNothing) {
  GoMap<Word64Key, Word64Value> m;
  ASSERT_EQ(m.init(0), Status::kOk);
  EXPECT_EQ(m.stats().bytes, 0u);
  EXPECT_EQ(m.stats().B, 0u);
}

TEST(GoMapSizing, ReserveGrowsAtOnce) {
  GoMap<Word64Key, Word64Value> m;
  for (uint64_t i = 0; i < 100; ++i) ASSERT_EQ(m.set(i, i), Status::kOk);
  while (m.stats().growing) ASSERT_EQ(m.set(0, 0), Status::kOk);
  const MapStats s0 = m.stats();
  ASSERT_EQ(m.reserve(5000), Status::kOk);
  MapStats s = m.stats();
  EXPECT_EQ(s.B, bucketBitsFor(5000));
  EXPECT_FALSE(s.growing);
  EXPECT_GT(s.bytes, s0.bytes);
  for (uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(m.contains(i));
  // No grow until 5000 entries.
  for (uint64_t i = 100; i < 5000; ++i) ASSERT_EQ(m.set(i, i), Status::kOk);
  EXPECT_EQ(m.stats().grows, s.grows);
  EXPECT_EQ(m.stats().B, s.B);
  // A smaller reservation does nothing.
  ASSERT_EQ(m.reserve(10), Status::kOk);
  EXPECT_EQ(m.stats().B, s.B);
  // An impossible one is refused, and the map is untouched.
  EXPECT_EQ(m.reserve(~uint64_t{0}), Status::kTooLarge);
  EXPECT_EQ(m.stats().B, s.B);
  EXPECT_EQ(m.size(), 5000u);
  EXPECT_EQ(m.init(~uint64_t{0} / 2), Status::kTooLarge);
}

// Shrink after deleting most entries: B becomes bucketBitsFor(count), bytes drop, shrinks
// counts it, contents are intact. Also while a grow is under way, and with blob keys.
template <class KT, class VT>
void shrinkAfterDeletes(uint64_t n, uint64_t keep, bool midGrow, uint64_t seed) {
  MapOptions opts;
  opts.fixedSeed = true;
  opts.seed = seed;
  MapOf<KT, VT> m(opts);
  ModelOf<KT, VT> model;
  Rng r(seed);
  std::vector<typename KT::Model> keys;
  for (uint64_t i = 0; i < n; ++i) {
    auto k = KT::make(i);
    auto v = VT::random(r);
    ASSERT_EQ(m.set(KT::view(k), VT::view(v)), Status::kOk);
    if (model.insert_or_assign(k, v).second) keys.push_back(k);
  }
  for (size_t i = keys.size(); i-- > 1;) std::swap(keys[i], keys[r.below(i + 1)]);
  while (keys.size() > keep) {
    ASSERT_TRUE(m.erase(KT::view(keys.back())));
    model.erase(keys.back());
    keys.pop_back();
  }
  if (midGrow) {
    // Insert until a grow starts (the load is low, so force one with reserve's opposite:
    // keep inserting fresh keys until the count overloads the table).
    uint64_t next = n;
    while (!m.stats().growing) {
      auto k = KT::make(next++);
      auto v = VT::random(r);
      ASSERT_EQ(m.set(KT::view(k), VT::view(v)), Status::kOk);
      model.insert_or_assign(k, v);
    }
  }
  const MapStats before = m.stats();
  ASSERT_EQ(before.growing, midGrow);
  ASSERT_EQ(m.shrink(), Status::kOk);
  const MapStats after = m.stats();
  const unsigned target = std::min(before.B, bucketBitsFor(model.size()));
  EXPECT_EQ(after.B, target);
  EXPECT_FALSE(after.growing);
  EXPECT_EQ(after.count, model.size());
  if (target < before.B) {
    EXPECT_EQ(after.shrinks, before.shrinks + 1);
    EXPECT_LT(after.bytes, before.bytes);
  }
  ASSERT_NO_FATAL_FAILURE(expectStatsInvariants(m));
  ASSERT_NO_FATAL_FAILURE((expectSameContents<KT, VT>(m, model)));
  // A second shrink has nothing to do.
  ASSERT_EQ(m.shrink(), Status::kOk);
  EXPECT_EQ(m.stats().B, after.B);
  EXPECT_EQ(m.stats().shrinks, after.shrinks);
  EXPECT_EQ(m.stats().bytes, after.bytes);
  // The shrunk map works as usual, growing again when filled.
  for (uint64_t i = 0; i < 2000; ++i) {
    auto k = KT::make(n + 100000 + i);
    auto v = VT::random(r);
    ASSERT_EQ(m.set(KT::view(k), VT::view(v)), Status::kOk);
    model.insert_or_assign(k, v);
  }
  ASSERT_NO_FATAL_FAILURE((expectSameContents<KT, VT>(m, model)));
}

TEST(GoMapSizing, ShrinkAfterDeletingMost) { shrinkAfterDeletes<U64Key, U64Val>(20000, 300, false, 1); }
TEST(GoMapSizing, ShrinkToOneBucket) { shrinkAfterDeletes<U64Key, SlabVal>(5000, 5, false, 2); }
TEST(GoMapSizing, ShrinkToEmpty) { shrinkAfterDeletes<U64Key, U64Val>(5000, 0, false, 3); }
TEST(GoMapSizing, ShrinkBlobKeysAndValues) { shrinkAfterDeletes<BlobKeyTraits, BlobValTraits>(12000, 700, false, 4); }
TEST(GoMapSizing, ShrinkWhileGrowing) { shrinkAfterDeletes<LongBlobKeyTraits, LongBlobValTraits>(4000, 3000, true, 5); }
TEST(GoMapSizing, ShrinkWhenNothingToShrink) {
  GoMap<Word64Key, Word64Value> m;
  EXPECT_EQ(m.shrink(), Status::kOk);  // never allocated
  EXPECT_EQ(m.stats().shrinks, 0u);
  for (uint64_t i = 0; i < 50; ++i) ASSERT_EQ(m.set(i, i), Status::kOk);
  while (m.stats().growing) ASSERT_EQ(m.set(0, 0), Status::kOk);
  MapStats s = m.stats();
  ASSERT_EQ(s.B, bucketBitsFor(50));
  EXPECT_EQ(m.shrink(), Status::kOk);
  EXPECT_EQ(m.stats().B, s.B);
  EXPECT_EQ(m.stats().shrinks, 0u);
  for (uint64_t i = 0; i < 50; ++i) ASSERT_TRUE(m.contains(i));
}

}  // namespace
// A reserve (or hint) whose bucket array alone would exceed the machine's memory is
// refused by the map itself with kTooLarge, not handed to the OS (which may grant a huge
// mapping under overcommit), and the map is unchanged.
TEST(GoMapSizing, TablesBiggerThanMemoryAreRefused) {
  GoMap<Word64Key, Word64Value> m;
  for (uint64_t i = 0; i < 100; ++i) ASSERT_EQ(m.set(i, i * 3), Status::kOk);
  const MapStats before = m.stats();
  // maxTableBytes() entries need far more than maxTableBytes() bytes of buckets.
  const uint64_t tooMany = static_cast<uint64_t>(maxTableBytes());
  ASSERT_LT(bucketBitsFor(tooMany), map_detail::kMaxB);  // refused by the memory cap, not by kMaxB
  EXPECT_EQ(m.reserve(tooMany), Status::kTooLarge);
  const MapStats after = m.stats();
  EXPECT_EQ(after.B, before.B);
  EXPECT_EQ(after.bytes, before.bytes);
  EXPECT_EQ(m.size(), 100u);
  uint64_t v = 0;
  ASSERT_TRUE(m.get(42, &v));
  EXPECT_EQ(v, 126u);

  GoMap<Word64Key, Word64Value> fresh;
  EXPECT_EQ(fresh.init(tooMany), Status::kTooLarge);
  EXPECT_EQ(fresh.stats().buckets, 1u);  // B = 0, nothing allocated
  EXPECT_EQ(fresh.stats().bytes, 0u);
}

}  // namespace gomap_test

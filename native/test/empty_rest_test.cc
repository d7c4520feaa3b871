// Tophash markers: after a delete at the end of a chain the trailing run of empty slots
// is marked kEmptyRest again (so lookups stop early), a kEmptyRest never hides a live
// entry, and real tophashes below kMinTopHash are moved above the markers.
//
// Lookups stay correct either way; the markers themselves are checked by reading the
// current bucket array through the test-only window of test_util.h (no core change).
#include <algorithm>

#include "test_util.h"

GOMAP_TEST_EXPOSE_BUCKETS(Word64Key, Word64Value);
GOMAP_TEST_EXPOSE_BUCKETS(BlobKey, Word64Value);

namespace gomap_test {
namespace {

using map_detail::kEmptyOne;
using map_detail::kEmptyRest;
using map_detail::kMinTopHash;

// Walks every chain of the current array: each is (live | kEmptyOne)* then kEmptyRest*,
// never ends in kEmptyOne, and holds no evacuation marks. Returns the live slots counted.
template <class K, class V>
uint64_t checkChainMarkers(const GoMap<K, V>& m) {
  using Map = GoMap<K, V>;
  const map_detail::BucketArray* a = currentArray(m);
  if (a == nullptr) return 0;
  uint64_t live = 0;
  for (uint64_t i = 0; i < (uint64_t{1} << a->B); ++i) {
    const uint8_t* b = a->buckets + i * Map::kBucketSize;
    bool inRest = false;
    uint8_t prev = kEmptyRest;
    size_t position = 0;
    for (; b != nullptr; position += 8) {
      for (size_t s = 0; s < 8; ++s) {
        uint8_t t = b[s];
        if (inRest) {
          EXPECT_EQ(t, kEmptyRest) << "bucket " << i << " chain slot " << position + s
                                   << ": a slot after kEmptyRest is not kEmptyRest";
        } else if (t == kEmptyRest) {
          inRest = true;
          EXPECT_NE(prev, kEmptyOne) << "bucket " << i << " chain slot " << position + s
                                     << ": a trailing run of kEmptyOne was not turned into kEmptyRest";
        } else {
          EXPECT_TRUE(t == kEmptyOne || t >= kMinTopHash)
              << "bucket " << i << " slot " << position + s << ": marker " << int(t) << " in the current array";
          live += t >= kMinTopHash;
        }
        prev = t;
      }
      const uint8_t* next;
      std::memcpy(&next, b + Map::kOverflowOffset, sizeof next);
      b = next;
    }
    EXPECT_NE(prev, kEmptyOne) << "bucket " << i << ": the chain ends in kEmptyOne";
  }
  return live;
}

// The number of kEmptyRest slots in the chain of bucket 0.
template <class K, class V>
uint64_t emptyRestSlotsInBucket0(const GoMap<K, V>& m) {
  const map_detail::BucketArray* a = currentArray(m);
  uint64_t n = 0;
  for (const uint8_t* b = a->buckets; b != nullptr;) {
    for (size_t s = 0; s < 8; ++s) n += b[s] == kEmptyRest;
    const uint8_t* next;
    std::memcpy(&next, b + GoMap<K, V>::kOverflowOffset, sizeof next);
    b = next;
  }
  return n;
}

// All keys in bucket 0 (at any B), tophash from the real hash.
uint64_t oneBucket(uint64_t h) { return h & 0xff00000000000000ull; }
// All keys in bucket 0 with the same tophash: every lookup compares every live key.
uint64_t oneBucketOneTop(uint64_t) { return 0xab00000000000000ull; }
// All keys in bucket 0 with a tophash byte below kMinTopHash (0..4).
uint64_t lowTop(uint64_t h) { return (h % 5) << 56; }
// Four buckets.
uint64_t fourBuckets(uint64_t h) { return h & 0xff00000000000003ull; }

enum class Order { kReverse, kForward, kRandom, kMiddleOut };

// One chain of 19 buckets in bucket 0; its keys deleted one by one in the given order.
// After every delete: the markers are right, every remaining key is found, every deleted
// key (and some never inserted) is not. At the end the chain is all kEmptyRest.
void deleteAlongOneChain(uint64_t (*override)(uint64_t), Order order, uint64_t seed) {
  MapOptions opts;
  opts.fixedSeed = true;
  opts.seed = seed;
  opts.hashOverride = override;
  GoMap<Word64Key, Word64Value> m(opts);
  ASSERT_EQ(m.init(400), Status::kOk);  // B = 6: no grow for 400 entries; 64 overflow allowed
  const uint64_t n = 150;
  std::vector<uint64_t> keys;
  for (uint64_t i = 0; i < n; ++i) {
    keys.push_back(1000 + i * 7);
    ASSERT_EQ(m.set(keys.back(), i), Status::kOk);
  }
  ASSERT_EQ(m.stats().overflowBuckets, (n + 7) / 8 - 1);
  ASSERT_EQ(checkChainMarkers(m), n);
  const uint64_t chainSlots = 8 * ((n + 7) / 8);
  ASSERT_EQ(emptyRestSlotsInBucket0(m), chainSlots - n);

  // Insertion order is chain order: keys[i] sits in slot i of the chain.
  std::vector<uint64_t> del = keys;
  Rng r(seed);
  switch (order) {
    case Order::kReverse: std::reverse(del.begin(), del.end()); break;
    case Order::kForward: break;
    case Order::kRandom:
      for (size_t i = del.size(); i-- > 1;) std::swap(del[i], del[r.below(i + 1)]);
      break;
    case Order::kMiddleOut:
      std::stable_sort(del.begin(), del.end(), [&](uint64_t a, uint64_t b) {
        auto dist = [&](uint64_t k) { return (k > 1000 + 7 * n / 2) ? k - (1000 + 7 * n / 2) : (1000 + 7 * n / 2) - k; };
        return dist(a) < dist(b);
      });
      break;
  }
  std::unordered_set<uint64_t> present(keys.begin(), keys.end());
  for (size_t d = 0; d < del.size(); ++d) {
    ASSERT_TRUE(m.erase(del[d]));
    present.erase(del[d]);
    // The highest live chain position decides how many kEmptyRest slots there are.
    uint64_t highest = 0;
    bool any = false;
    for (uint64_t k : present) {
      highest = std::max(highest, (k - 1000) / 7);
      any = true;
    }
    uint64_t expectedRest = any ? chainSlots - (highest + 1) : chainSlots;
    ASSERT_EQ(emptyRestSlotsInBucket0(m), expectedRest) << "after deleting " << d + 1 << " keys";
    ASSERT_EQ(checkChainMarkers(m), present.size());
    ASSERT_FALSE(::testing::Test::HasFailure());
    if (d % 7 == 0 || present.size() < 10) {
      for (uint64_t k : keys) {
        uint64_t v = 0;
        bool hit = m.get(k, &v);
        ASSERT_EQ(hit, present.count(k) == 1) << "key " << k;
        if (hit) {
          ASSERT_EQ(v, (k - 1000) / 7);
        }
      }
      for (uint64_t k = 1; k < 50; ++k) ASSERT_FALSE(m.contains(k * 1000003));
    }
  }
  EXPECT_EQ(m.size(), 0u);
  // The emptied chain is reused from its start.
  for (uint64_t i = 0; i < 20; ++i) ASSERT_EQ(m.set(5000 + i, i), Status::kOk);
  EXPECT_EQ(checkChainMarkers(m), 20u);
  EXPECT_EQ(emptyRestSlotsInBucket0(m), chainSlots - 20);
  for (uint64_t i = 0; i < 20; ++i) ASSERT_TRUE(m.contains(5000 + i));
}

TEST(GoMapEmptyRest, ReverseDeletesRestoreEmptyRest) { deleteAlongOneChain(oneBucket, Order::kReverse, 1); }
TEST(GoMapEmptyRest, ForwardDeletesKeepLaterEntriesReachable) { deleteAlongOneChain(oneBucket, Order::kForward, 2); }
TEST(GoMapEmptyRest, RandomDeletes) {
  for (uint64_t seed : {3, 4, 5}) deleteAlongOneChain(oneBucket, Order::kRandom, seed);
}
TEST(GoMapEmptyRest, MiddleOutDeletes) { deleteAlongOneChain(oneBucket, Order::kMiddleOut, 6); }
TEST(GoMapEmptyRest, AllTophashesEqual) {
  deleteAlongOneChain(oneBucketOneTop, Order::kRandom, 7);
  deleteAlongOneChain(oneBucketOneTop, Order::kReverse, 8);
}
TEST(GoMapEmptyRest, TophashesBelowMinTopHash) { deleteAlongOneChain(lowTop, Order::kRandom, 9); }

// A delete that empties the last slot of a full bucket whose overflow bucket is empty.
TEST(GoMapEmptyRest, DeleteAtBucketBoundary) {
  MapOptions opts;
  opts.hashOverride = oneBucket;
  GoMap<Word64Key, Word64Value> m(opts);
  ASSERT_EQ(m.init(100), Status::kOk);
  for (uint64_t k = 1; k <= 9; ++k) ASSERT_EQ(m.set(k, k), Status::kOk);  // slot 8 = overflow slot 0
  ASSERT_TRUE(m.erase(9));   // the overflow bucket is empty again
  EXPECT_EQ(emptyRestSlotsInBucket0(m), 8u);
  ASSERT_TRUE(m.erase(5));   // a hole in the middle: kEmptyOne
  EXPECT_EQ(emptyRestSlotsInBucket0(m), 8u);
  ASSERT_TRUE(m.erase(8));   // the last slot of the first bucket (its overflow is empty)
  EXPECT_EQ(emptyRestSlotsInBucket0(m), 9u);
  ASSERT_TRUE(m.erase(7));
  ASSERT_TRUE(m.erase(6));   // reaches back over the hole: slots 4..7 and the overflow bucket
  EXPECT_EQ(emptyRestSlotsInBucket0(m), 12u);
  EXPECT_EQ(checkChainMarkers(m), 4u);
  for (uint64_t k = 1; k <= 4; ++k) EXPECT_TRUE(m.contains(k));
  for (uint64_t k = 5; k <= 9; ++k) EXPECT_FALSE(m.contains(k));
}

// Real tophashes are always >= kMinTopHash, whatever the hash's top byte.
TEST(GoMapEmptyRest, StoredTophashesAreAboveTheMarkers) {
  MapOptions opts;
  opts.hashOverride = lowTop;
  GoMap<BlobKey, Word64Value> m(opts);
  ASSERT_EQ(m.init(100), Status::kOk);
  for (uint64_t i = 0; i < 60; ++i) ASSERT_EQ(m.set(blobView(longKey(i)), i), Status::kOk);
  const map_detail::BucketArray* a = currentArray(m);
  uint64_t live = 0;
  for (const uint8_t* b = a->buckets; b != nullptr;) {
    for (size_t s = 0; s < 8; ++s) {
      if (b[s] != kEmptyRest) {
        EXPECT_GE(b[s], kMinTopHash);
        EXPECT_LT(b[s], kMinTopHash + 5);
        ++live;
      }
    }
    const uint8_t* next;
    std::memcpy(&next, b + GoMap<BlobKey, Word64Value>::kOverflowOffset, sizeof next);
    b = next;
  }
  EXPECT_EQ(live, 60u);
  for (uint64_t i = 0; i < 60; ++i) {
    uint64_t v;
    ASSERT_TRUE(m.get(blobView(longKey(i)), &v));
    EXPECT_EQ(v, i);
  }
}

// Random inserts and deletes in crowded buckets, through grows: the markers are right
// after every operation (checked whenever no grow is under way).
void randomOpsKeepMarkers(uint64_t (*override)(uint64_t), uint64_t seed, int ops) {
  MapOptions opts;
  opts.fixedSeed = true;
  opts.seed = seed;
  opts.hashOverride = override;
  GoMap<BlobKey, Word64Value> m(opts);
  std::unordered_map<std::string, uint64_t> model;
  Rng r(seed);
  for (int op = 0; op < ops; ++op) {
    std::string k = BlobKeyTraits::make(r.below(300));
    if (r.chance((op / 1000) % 2 == 0 ? 65 : 35)) {
      ASSERT_EQ(m.set(blobView(k), op), Status::kOk);
      model[k] = static_cast<uint64_t>(op);
    } else {
      ASSERT_EQ(m.erase(blobView(k)), model.erase(k) == 1);
    }
    if (!m.stats().growing) {
      ASSERT_EQ(checkChainMarkers(m), model.size());
      ASSERT_FALSE(::testing::Test::HasFailure());
    }
    if (op % 250 == 0) {
      ASSERT_NO_FATAL_FAILURE((expectSameContents<BlobKeyTraits, U64Val>(m, model)));
    }
  }
}

TEST(GoMapEmptyRest, RandomOpsInFourBuckets) { randomOpsKeepMarkers(fourBuckets, 10, 6000); }
TEST(GoMapEmptyRest, RandomOpsInOneBucket) { randomOpsKeepMarkers(oneBucket, 11, 4000); }
TEST(GoMapEmptyRest, RandomOpsWithTheRealHash) { randomOpsKeepMarkers(nullptr, 12, 6000); }

}  // namespace
}  // namespace gomap_test

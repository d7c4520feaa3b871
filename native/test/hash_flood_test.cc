// Hash flooding: keys chosen to collide under one seed do not collide under another.
//
// The attack: someone who knows a map's hash seed (here: a map built with a fixed seed A)
// picks keys whose hashes share their low bits, so they all land in one bucket and every
// insert walks one ever longer overflow chain (quadratic time). The defence is Go's:
// a random seed per map (hash0), re-drawn by clear() and when the map empties.
//
// The test finds such keys by brute force with the map's own hash (the value the map
// computes, read through the MapOptions::hashOverride test hook with an identity
// function), checks they pile up in a single bucket chain of a seed-A map, then inserts
// the same keys into maps with fresh random seeds and checks they spread like random
// keys: bucket chain lengths and entries per bucket are read from the bucket array
// (test_util.h's currentArray window; the layout constants are public), overflow buckets
// from stats(). Thresholds are far in the tails of the Poisson distribution of a good
// hash (about 3.9 entries per bucket here), so a random seed never trips them by chance.
// (bench/workloads/flood.mjs measures the time: 100,000 keys flooding seed A against
// random keys, in a fresh map.)
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "test_util.h"

GOMAP_TEST_EXPOSE_BUCKETS(BlobKey, Word64Value);
GOMAP_TEST_EXPOSE_BUCKETS(Word64Key, Word64Value);

namespace gomap_test {
namespace {

constexpr uint64_t kSeedA = 0x5eed00000000000aull;
constexpr size_t kKeys = 1000;
constexpr uint64_t kBits = 11;  // keys share their low 11 bits: one bucket of any table up to 2^11
constexpr uint64_t kReserve = kKeys;  // 2^8 buckets, no growth while inserting

uint64_t g_seenHash = 0;
uint64_t spyHash(uint64_t h) {
  g_seenHash = h;
  return h;
}

struct Shape {
  uint64_t buckets = 0;
  uint64_t usedBuckets = 0;       // buckets holding at least one entry
  size_t longestChain = 0;        // buckets in the longest chain (1: no overflow)
  size_t mostEntries = 0;         // entries in the fullest chain
  uint64_t overflowBuckets = 0;   // from stats()
};

// The shape of a map's table (not growing: all entries are in the current array).
template <class K, class V>
Shape shapeOf(const GoMap<K, V>& m) {
  using Map = GoMap<K, V>;
  const MapStats s = m.stats();
  EXPECT_FALSE(s.growing);
  const map_detail::BucketArray* a = currentArray(m);
  Shape shape;
  shape.buckets = s.buckets;
  shape.overflowBuckets = s.overflowBuckets;
  for (uint64_t i = 0; i < s.buckets; ++i) {
    size_t chain = 0, entries = 0;
    for (const uint8_t* b = a->buckets + i * Map::kBucketSize; b != nullptr;) {
      ++chain;
      for (size_t slot = 0; slot < map_detail::kBucketCount; ++slot) entries += b[slot] >= map_detail::kMinTopHash;
      const uint8_t* next;
      std::memcpy(&next, b + Map::kOverflowOffset, sizeof next);
      b = next;
    }
    shape.usedBuckets += entries > 0;
    shape.longestChain = std::max(shape.longestChain, chain);
    shape.mostEntries = std::max(shape.mostEntries, entries);
  }
  return shape;
}

// Keys (made by `make` from a counter) whose hash in a map with seed A has low kBits bits
// equal to those of the first candidate.
template <class KT>
std::vector<typename KT::Model> collidingKeys(uint64_t (*make)(uint64_t, typename KT::Model*)) {
  MapOptions options;
  options.fixedSeed = true;
  options.seed = kSeedA;
  options.hashOverride = spyHash;
  GoMap<typename KT::Policy, Word64Value> probe(options);
  const uint64_t mask = (uint64_t{1} << kBits) - 1;
  std::vector<typename KT::Model> keys;
  uint64_t target = 0;
  bool haveTarget = false;
  for (uint64_t i = 0; keys.size() < kKeys; ++i) {
    typename KT::Model k;
    make(i, &k);
    (void)probe.contains(KT::view(k));  // the map computes the key's hash: the spy sees it
    const uint64_t low = g_seenHash & mask;
    if (!haveTarget) {
      target = low;
      haveTarget = true;
    }
    if (low == target) keys.push_back(k);
  }
  return keys;
}

template <class KT>
std::unique_ptr<GoMap<typename KT::Policy, Word64Value>> filledMap(const std::vector<typename KT::Model>& keys,
                                                                   const MapOptions& options) {
  auto m = std::make_unique<GoMap<typename KT::Policy, Word64Value>>(options);
  EXPECT_EQ(m->reserve(kReserve), Status::kOk);
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(m->set(KT::view(keys[i]), i), Status::kOk);
  EXPECT_EQ(m->size(), keys.size());
  return m;
}

template <class KT>
void floodThenSpread(uint64_t (*make)(uint64_t, typename KT::Model*)) {
  const auto keys = collidingKeys<KT>(make);
  ASSERT_EQ(keys.size(), kKeys);

  // Seed A: the attack works. Every key is in one chain of one bucket.
  MapOptions a;
  a.fixedSeed = true;
  a.seed = kSeedA;
  {
    auto m = filledMap<KT>(keys, a);
    const Shape s = shapeOf(*m);
    ASSERT_EQ(s.buckets, uint64_t{1} << map_detail::bucketBitsFor(kReserve));
    EXPECT_EQ(s.usedBuckets, 1u);
    EXPECT_EQ(s.mostEntries, kKeys);
    EXPECT_EQ(s.longestChain, kKeys / map_detail::kBucketCount);
    EXPECT_EQ(s.overflowBuckets, kKeys / map_detail::kBucketCount - 1);
    for (const auto& k : keys) ASSERT_TRUE(m->contains(KT::view(k)));
  }

  // Fresh random seeds (the default: OS entropy): the same keys spread like random keys.
  // 1000 keys in 256 buckets: mean 3.9 per bucket; P(a bucket > 24 entries) < 1e-11,
  // expected used buckets 251, expected overflow buckets ~4.
  for (int round = 0; round < 8; ++round) {
    auto m = filledMap<KT>(keys, MapOptions());
    const Shape s = shapeOf(*m);
    EXPECT_GE(s.usedBuckets, s.buckets * 3 / 4) << "round " << round;
    EXPECT_LE(s.mostEntries, 24u) << "round " << round;
    EXPECT_LE(s.longestChain, 3u) << "round " << round;
    EXPECT_LE(s.overflowBuckets, 40u) << "round " << round;
    for (const auto& k : keys) ASSERT_TRUE(m->contains(KT::view(k)));
  }

  // The seed is also re-drawn when a seed-A map is cleared: the attack keys spread then.
  {
    auto m = filledMap<KT>(keys, a);
    m->clear();
    for (size_t i = 0; i < keys.size(); ++i) ASSERT_EQ(m->set(KT::view(keys[i]), i), Status::kOk);
    const Shape s = shapeOf(*m);
    EXPECT_GE(s.usedBuckets, s.buckets * 3 / 4);
    EXPECT_LE(s.longestChain, 3u);
  }
}

uint64_t stringKey(uint64_t i, std::string* out) {
  *out = makeBlob(kTagLatin1, "user:" + std::to_string(i));
  return i;
}
uint64_t wordKey(uint64_t i, uint64_t* out) { return *out = i; }

TEST(HashFlood, StringKeysCollideForOneSeedOnly) { floodThenSpread<BlobKeyTraits>(stringKey); }
TEST(HashFlood, IntegerKeysCollideForOneSeedOnly) { floodThenSpread<U64Key>(wordKey); }

}  // namespace
}  // namespace gomap_test

// The per-map hash seed (Go's hash0): random per map, reproducible with a fixed seed, and
// re-drawn when the map is cleared or becomes empty (never otherwise, or lookups of
// stored keys would fail). Observed through MapOptions::hashOverride, which sees every
// hash the map computes: looking a key up once reveals the key's hash under the current
// seed.
#include "test_util.h"

namespace gomap_test {
namespace {

uint64_t g_seen = 0;
uint64_t capture(uint64_t h) { return g_seen = h; }

template <class M, class KView>
uint64_t hashNow(const M& m, const KView& key) {
  g_seen = 0x5eed5eed5eed5eedull;
  (void)m.contains(key);
  EXPECT_NE(g_seen, 0x5eed5eed5eed5eedull) << "contains() did not hash";
  return g_seen;
}

MapOptions captured(bool fixed = false, uint64_t seed = 0) {
  MapOptions o;
  o.hashOverride = capture;
  o.fixedSeed = fixed;
  o.seed = seed;
  return o;
}

TEST(GoMapSeed, ClearDrawsANewSeed) {
  GoMap<Word64Key, Word64Value> m(captured());
  for (uint64_t i = 0; i < 100; ++i) ASSERT_EQ(m.set(i, i), Status::kOk);
  const uint64_t h1 = hashNow(m, uint64_t{42});
  EXPECT_EQ(hashNow(m, uint64_t{42}), h1) << "the hash of a key is stable";
  m.clear();
  const uint64_t h2 = hashNow(m, uint64_t{42});
  EXPECT_NE(h2, h1);
  for (uint64_t i = 0; i < 100; ++i) ASSERT_EQ(m.set(i, i), Status::kOk);
  EXPECT_EQ(hashNow(m, uint64_t{42}), h2);
  for (uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(m.contains(i));
  m.clear();
  EXPECT_NE(hashNow(m, uint64_t{42}), h2);
}

TEST(GoMapSeed, BecomingEmptyDrawsANewSeed) {
  GoMap<BlobKey, Word64Value> m(captured());
  const std::string a = longKey(1), b = longKey(2), c = makeBlob(kTagLatin1, "short");
  ASSERT_EQ(m.set(blobView(a), 1), Status::kOk);
  ASSERT_EQ(m.set(blobView(b), 2), Status::kOk);
  const uint64_t h1 = hashNow(m, blobView(c));
  ASSERT_TRUE(m.erase(blobView(a)));
  EXPECT_EQ(hashNow(m, blobView(c)), h1) << "still one entry: the seed must stay";
  EXPECT_FALSE(m.erase(blobView(a)));
  EXPECT_EQ(hashNow(m, blobView(c)), h1) << "a delete of a missing key changes nothing";
  ASSERT_TRUE(m.erase(blobView(b)));
  const uint64_t h2 = hashNow(m, blobView(c));
  EXPECT_NE(h2, h1) << "the map became empty: the seed must be re-drawn";
  ASSERT_EQ(m.set(blobView(a), 3), Status::kOk);
  uint64_t v = 0;
  ASSERT_TRUE(m.get(blobView(a), &v));
  EXPECT_EQ(v, 3u);
}

// Growing, shrinking, reserving and deleting (without emptying) keep the seed.
TEST(GoMapSeed, OtherOperationsKeepTheSeed) {
  GoMap<Word64Key, Word64Value> m(captured());
  ASSERT_EQ(m.set(0, 0), Status::kOk);
  const uint64_t h = hashNow(m, uint64_t{7});
  for (uint64_t i = 1; i < 5000; ++i) ASSERT_EQ(m.set(i, i), Status::kOk);
  EXPECT_GT(m.stats().grows, 5u);
  EXPECT_EQ(hashNow(m, uint64_t{7}), h);
  for (uint64_t i = 1; i < 5000; ++i) ASSERT_TRUE(m.erase(i));
  EXPECT_EQ(hashNow(m, uint64_t{7}), h);
  ASSERT_EQ(m.shrink(), Status::kOk);
  EXPECT_EQ(hashNow(m, uint64_t{7}), h);
  ASSERT_EQ(m.reserve(10000), Status::kOk);
  EXPECT_EQ(hashNow(m, uint64_t{7}), h);
  EXPECT_TRUE(m.contains(0));
}

// Emptying the map in the middle of a grow re-seeds too, and the map keeps working.
TEST(GoMapSeed, EmptiedDuringAGrow) {
  MapOptions opts = captured(true, 5);
  GoMap<Word64Key, Word64Value> m(opts);
  uint64_t n = 0;
  while (!(m.stats().growing && m.stats().B >= 6)) {
    ASSERT_EQ(m.set(n, n), Status::kOk);
    ++n;
  }
  const uint64_t h = hashNow(m, uint64_t{123456});
  for (uint64_t i = 0; i < n; ++i) ASSERT_TRUE(m.erase(i));
  EXPECT_EQ(m.size(), 0u);
  EXPECT_NE(hashNow(m, uint64_t{123456}), h);
  std::unordered_map<uint64_t, uint64_t> model;
  for (uint64_t i = 0; i < 3000; ++i) {
    ASSERT_EQ(m.set(i * 3, i), Status::kOk);
    model[i * 3] = i;
  }
  ASSERT_NO_FATAL_FAILURE((expectSameContents<U64Key, U64Val>(m, model)));
}

TEST(GoMapSeed, FixedSeedsAreReproducibleAndDistinct) {
  GoMap<Word64Key, Word64Value> a(captured(true, 1)), b(captured(true, 1)), c(captured(true, 2));
  EXPECT_EQ(hashNow(a, uint64_t{99}), hashNow(b, uint64_t{99}));
  EXPECT_NE(hashNow(a, uint64_t{99}), hashNow(c, uint64_t{99}));
  // The same operations re-draw the same seeds.
  for (GoMap<Word64Key, Word64Value>* m : {&a, &b}) {
    ASSERT_EQ(m->set(1, 1), Status::kOk);
    m->clear();
  }
  EXPECT_EQ(hashNow(a, uint64_t{99}), hashNow(b, uint64_t{99}));
}

TEST(GoMapSeed, EntropySeedsDiffer) {
  // Eight maps seeded from the OS: all hashes of one key differ (a false failure needs a
  // 64-bit coincidence).
  std::unordered_set<uint64_t> hashes;
  for (int i = 0; i < 8; ++i) {
    GoMap<Word64Key, Word64Value> m(captured());
    hashes.insert(hashNow(m, uint64_t{99}));
  }
  EXPECT_EQ(hashes.size(), 8u);
}

}  // namespace
}  // namespace gomap_test

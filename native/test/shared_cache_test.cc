// SharedCache (native/core/shared_cache.h): the bounded cache on the concurrent map.
// Single-thread behaviour (limits, CLOCK, expiry first, updateAgeOnGet), then real
// threads: limits hold after every call in every thread, readers never wait for the
// write lock, counters add up, and everything is freed at the end (ASan, TSan).
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "concurrent_test_util.h"
#include "core/shared_cache.h"

namespace {

using cmap_test::IntKey;
using cmap_test::Registered;
using cmap_test::runThreads;
using cmap_test::strBlob;
using cmap_test::text;
using gomap::Blob;
using gomap::CacheLimits;
using gomap::ConcurrentMap;
using gomap::RemovalReason;
using gomap::SetOutcome;
using gomap::SharedCache;
using gomap::Status;
using gomap::cache_detail::kDefaultTtl;

// Counts removals by reason (thread-safe: each thread may have its own, or share one).
class CountingSink : public gomap::SharedRemovalSink {
 public:
  void removed(const Blob& key, const Blob&, RemovalReason reason) noexcept override {
    counts[static_cast<int>(reason)].fetch_add(1, std::memory_order_relaxed);
    if (keepKeys) lastKey = text(key);
  }
  uint64_t count(RemovalReason r) const { return counts[static_cast<int>(r)].load(); }
  std::atomic<uint64_t> counts[4] = {};
  bool keepKeys = false;
  std::string lastKey;
};

ConcurrentMap* newCache(const CacheLimits& limits, uint64_t seed = 7) {
  gomap::MapOptions options;
  options.fixedSeed = true;
  options.seed = seed;
  ConcurrentMap* m = nullptr;
  EXPECT_EQ(SharedCache::create(options, limits, &m), Status::kOk);
  EXPECT_NE(m->cache(), nullptr);
  return m;
}

CacheLimits limitsOf(uint64_t max, uint64_t maxBytes, uint64_t ttl, bool updateAgeOnGet = false) {
  CacheLimits l;
  l.maxEntries = max;
  l.maxBytes = maxBytes;
  l.ttl = ttl;
  l.updateAgeOnGet = updateAgeOnGet;
  return l;
}

std::string getString(SharedCache& c, gomap::ebr::ThreadRecord& rec, const std::string& key, uint64_t now) {
  std::string out = "<miss>";
  c.get(rec, strBlob(key), now, [&](Blob v) { out = text(v); });
  return out;
}

TEST(SharedCache, SetGetPeekDeleteAndStats) {
  Registered rec;
  ConcurrentMap* m = newCache(limitsOf(100, 0, 0));
  SharedCache& c = *m->cache();
  SetOutcome o;
  ASSERT_EQ(c.set(*rec, strBlob("a"), strBlob("one"), 10, kDefaultTtl, &o, nullptr), Status::kOk);
  EXPECT_EQ(o, SetOutcome::kInserted);
  ASSERT_EQ(c.set(*rec, strBlob("a"), strBlob("uno"), 10, kDefaultTtl, &o, nullptr), Status::kOk);
  EXPECT_EQ(o, SetOutcome::kReplaced);
  EXPECT_EQ(getString(c, *rec, "a", 11), "uno");
  EXPECT_EQ(getString(c, *rec, "b", 11), "<miss>");
  EXPECT_TRUE(c.has(*rec, strBlob("a"), 11));
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.bytes(), 1u + 3u);
  gomap::CacheStats s = c.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  CountingSink sink;
  EXPECT_TRUE(c.erase(*rec, strBlob("a"), 12, &sink));
  EXPECT_FALSE(c.erase(*rec, strBlob("a"), 12, &sink));
  EXPECT_EQ(sink.count(RemovalReason::kDelete), 1u);
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.bytes(), 0u);
  m->release();
  EXPECT_TRUE(cmap_test::drainRetired(*rec));
}

TEST(SharedCache, MaxEntriesAndMaxBytesHoldAfterEverySet) {
  Registered rec;
  ConcurrentMap* m = newCache(limitsOf(50, 600, 0));
  SharedCache& c = *m->cache();
  CountingSink sink;
  for (int i = 0; i < 2000; ++i) {
    SetOutcome o;
    const std::string key = "k" + std::to_string(i);
    const std::string value(static_cast<size_t>(i % 17), 'v');
    ASSERT_EQ(c.set(*rec, strBlob(key), strBlob(value), 1, kDefaultTtl, &o, &sink), Status::kOk);
    ASSERT_LE(c.size(), 50u);
    ASSERT_LE(c.bytes(), 600u);
    ASSERT_EQ(getString(c, *rec, key, 1), value) << "the entry just set is never its own victim";
  }
  EXPECT_EQ(c.stats().evictions, sink.count(RemovalReason::kEvict));
  EXPECT_GT(sink.count(RemovalReason::kEvict), 1000u);
  // An entry over maxBytes on its own is refused and deletes the older value.
  SetOutcome o;
  ASSERT_EQ(c.set(*rec, strBlob("k1999"), strBlob(std::string(700, 'x')), 1, kDefaultTtl, &o, &sink), Status::kOk);
  EXPECT_EQ(o, SetOutcome::kRefused);
  EXPECT_FALSE(c.has(*rec, strBlob("k1999"), 1));
  m->release();
  EXPECT_TRUE(cmap_test::drainRetired(*rec));
}

TEST(SharedCache, TableStopsDoublingOnceItsSlotsHoldMax) {
  Registered rec;
  ConcurrentMap* m = newCache(limitsOf(1000, 0, 0));
  SharedCache& c = *m->cache();
  SetOutcome o;
  for (uint64_t i = 0; i < 5000; ++i) {
    IntKey k(i);
    ASSERT_EQ(c.set(*rec, k.blob(), strBlob("v"), 1, kDefaultTtl, &o, nullptr), Status::kOk);
    ASSERT_LE(c.size(), 1000u);
  }
  // 8 slots x 2^7 buckets = 1024 >= 1001: Go would double again at 6.5 x 128 = 832.
  EXPECT_EQ(m->stats(*rec).B, 7u);
  EXPECT_EQ(c.size(), 1000u);
  m->release();
  EXPECT_TRUE(cmap_test::drainRetired(*rec));
}

TEST(SharedCache, ReferencedEntriesGetASecondChance) {
  Registered rec;
  ConcurrentMap* m = newCache(limitsOf(4, 0, 0));
  SharedCache& c = *m->cache();
  SetOutcome o;
  for (const char* k : {"a", "b", "c", "d"}) ASSERT_EQ(c.set(*rec, strBlob(k), strBlob("x"), 1, kDefaultTtl, &o, nullptr), Status::kOk);
  EXPECT_EQ(getString(c, *rec, "a", 1), "x");
  CountingSink sink;
  sink.keepKeys = true;
  ASSERT_EQ(c.set(*rec, strBlob("e"), strBlob("x"), 1, kDefaultTtl, &o, &sink), Status::kOk);
  EXPECT_EQ(sink.count(RemovalReason::kEvict), 1u);
  EXPECT_NE(sink.lastKey, "a");
  EXPECT_NE(sink.lastKey, "e");
  EXPECT_TRUE(c.has(*rec, strBlob("a"), 1));
  m->release();
}

TEST(SharedCache, ExpiredEntriesReadAsMissesAndGoBeforeLiveOnes) {
  Registered rec;
  ConcurrentMap* m = newCache(limitsOf(10, 0, 0));
  SharedCache& c = *m->cache();
  SetOutcome o;
  for (int i = 0; i < 10; ++i) {
    const uint64_t ttl = i < 5 ? 100 : 0;  // five expire at 1100, five never
    ASSERT_EQ(c.set(*rec, strBlob("k" + std::to_string(i)), strBlob("v"), 1000, ttl, &o, nullptr), Status::kOk);
  }
  uint64_t remaining = 0;
  bool never = false;
  ASSERT_TRUE(c.remainingTtl(*rec, strBlob("k0"), 1040, &remaining, &never));
  EXPECT_EQ(remaining, 60u);
  EXPECT_FALSE(never);
  ASSERT_TRUE(c.remainingTtl(*rec, strBlob("k7"), 1040, &remaining, &never));
  EXPECT_TRUE(never);
  EXPECT_EQ(getString(c, *rec, "k0", 1100), "<miss>");
  EXPECT_FALSE(c.has(*rec, strBlob("k1"), 1100));
  EXPECT_FALSE(c.remainingTtl(*rec, strBlob("k1"), 1100, &remaining, &never));
  // Readers do not remove: the expired entries are still held until a writer comes.
  EXPECT_EQ(c.size(), 10u);
  CountingSink sink;
  for (int i = 10; i < 15; ++i) {
    ASSERT_EQ(c.set(*rec, strBlob("k" + std::to_string(i)), strBlob("v"), 1100, 0, &o, &sink), Status::kOk);
  }
  EXPECT_EQ(sink.count(RemovalReason::kExpire), 5u);
  EXPECT_EQ(sink.count(RemovalReason::kEvict), 0u);
  for (int i = 5; i < 15; ++i) EXPECT_TRUE(c.has(*rec, strBlob("k" + std::to_string(i)), 1100)) << i;
  EXPECT_EQ(c.stats().expirations, 5u);
  m->release();
}

TEST(SharedCache, UpdateAgeOnGetRestartsTheTtlLockFree) {
  Registered rec;
  ConcurrentMap* m = newCache(limitsOf(0, 0, 100, true));
  SharedCache& c = *m->cache();
  SetOutcome o;
  ASSERT_EQ(c.set(*rec, strBlob("a"), strBlob("v"), 1000, kDefaultTtl, &o, nullptr), Status::kOk);
  ASSERT_EQ(c.set(*rec, strBlob("b"), strBlob("v"), 1000, kDefaultTtl, &o, nullptr), Status::kOk);
  EXPECT_EQ(getString(c, *rec, "a", 1090), "v");
  EXPECT_TRUE(c.has(*rec, strBlob("a"), 1150));   // refreshed to 1190
  EXPECT_FALSE(c.has(*rec, strBlob("b"), 1150));  // peek/has do not refresh: gone at 1100
  EXPECT_FALSE(c.has(*rec, strBlob("a"), 1190));
  CountingSink sink;
  c.purgeExpired(*rec, 1190, &sink);
  EXPECT_EQ(sink.count(RemovalReason::kExpire), 2u);
  EXPECT_EQ(c.size(), 0u);
  m->release();
}

TEST(SharedCache, ClearReportsEverythingAndEmpties) {
  Registered rec;
  ConcurrentMap* m = newCache(limitsOf(1000, 0, 50));
  SharedCache& c = *m->cache();
  SetOutcome o;
  for (uint64_t i = 0; i < 500; ++i) {
    IntKey k(i);
    ASSERT_EQ(c.set(*rec, k.blob(), strBlob("value"), 1, kDefaultTtl, &o, nullptr), Status::kOk);
  }
  CountingSink sink;
  c.clear(*rec, &sink);
  EXPECT_EQ(sink.count(RemovalReason::kDelete), 500u);
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.bytes(), 0u);
  IntKey k(3);
  ASSERT_EQ(c.set(*rec, k.blob(), strBlob("again"), 2, kDefaultTtl, &o, nullptr), Status::kOk);
  EXPECT_EQ(c.size(), 1u);
  m->release();
  EXPECT_TRUE(cmap_test::drainRetired(*rec));
}

// A set that runs out of memory at any allocation changes nothing: no eviction happened
// before the failure (everything that can fail runs before the first eviction).
TEST(SharedCache, AFailedSetChangesNothing) {
  Registered rec;
  int growthFailures = 0;  // failures past the entry's own allocation (table, overflow bucket)
  for (uint64_t failAt = 1; failAt < 40; ++failAt) {
    ConcurrentMap* m = newCache(limitsOf(20, 0, 50));
    SharedCache& c = *m->cache();
    SetOutcome o;
    for (uint64_t i = 0; i < 20; ++i) {
      IntKey k(i);
      ASSERT_EQ(c.set(*rec, k.blob(), strBlob("value " + std::to_string(i)), 1, kDefaultTtl, &o, nullptr), Status::kOk);
    }
    const gomap::CacheStats before = c.stats();
    CountingSink sink;
    bool failed = false;
    // Enough new keys that one of them needs an overflow bucket or a grow.
    for (uint64_t i = 100; i < 140 && !failed; ++i) {
      IntKey k(i);
      gomap::failNthAllocation(failAt);
      const Status st = c.set(*rec, k.blob(), strBlob("x"), 1, kDefaultTtl, &o, &sink);
      gomap::failNthAllocation(0);
      if (st != Status::kOk) {
        failed = true;
        if (failAt > 1) ++growthFailures;
        EXPECT_EQ(st, Status::kNoMemory);
        EXPECT_FALSE(c.has(*rec, k.blob(), 1));
        const gomap::CacheStats after = c.stats();
        EXPECT_EQ(after.size, 20u);
        EXPECT_EQ(after.evictions, before.evictions + (i - 100)) << "only the earlier sets evicted";
        EXPECT_EQ(sink.count(RemovalReason::kEvict), i - 100);
      }
      ASSERT_LE(c.size(), 20u);
    }
    m->release();
  }
  EXPECT_GT(growthFailures, 0);
  EXPECT_TRUE(cmap_test::drainRetired(*rec));
}

// Writers hammer one cache with max / maxBytes from several threads (through growth,
// evictions and expiry); every thread checks the limits after each of its calls.
void hammer(const CacheLimits& limits, int threads) {
  Registered main;
  ConcurrentMap* m = newCache(limits);
  SharedCache& c = *m->cache();
  CountingSink sink;
  std::atomic<uint64_t> inserted{0}, errors{0};
  std::atomic<uint64_t> clock{1};
  const bool ok = runThreads(threads, [&](int t) {
    Registered rec;
    std::mt19937_64 rng(static_cast<uint64_t>(t) + 1);
    for (int i = 0; i < 20000; ++i) {
      const uint64_t now = clock.fetch_add(1, std::memory_order_relaxed) / 64 + 1;
      IntKey key(rng() % 4096);
      const std::string value(rng() % 40, static_cast<char>('a' + t));
      if (i % 3 == 0) {
        std::string got;
        c.get(*rec, key.blob(), now, [&](Blob v) { got = text(v); });
      } else {
        SetOutcome o;
        const uint64_t ttl = rng() % 4 == 0 ? 5 : kDefaultTtl;
        if (c.set(*rec, key.blob(), strBlob(value), now, ttl, &o, &sink) != Status::kOk) errors.fetch_add(1);
        if (o == SetOutcome::kInserted) inserted.fetch_add(1);
      }
      if (limits.maxEntries != 0 && c.size() > limits.maxEntries) errors.fetch_add(1);
      if (limits.maxBytes != 0 && c.bytes() > limits.maxBytes) errors.fetch_add(1);
    }
  });
  ASSERT_TRUE(ok);
  EXPECT_EQ(errors.load(), 0u);
  const gomap::CacheStats s = c.stats();
  EXPECT_EQ(s.evictions, sink.count(RemovalReason::kEvict));
  EXPECT_EQ(s.expirations, sink.count(RemovalReason::kExpire));
  EXPECT_EQ(inserted.load() - s.evictions - s.expirations - sink.count(RemovalReason::kDelete), s.size);
  EXPECT_GT(s.evictions, 0u);
  // The counters match the table: walk it.
  ConcurrentMap::Iterator* it = nullptr;
  ASSERT_EQ(m->iterStart(*main, &it), Status::kOk);
  uint64_t n = 0, bytes = 0;
  while (m->iterNext(*main, it, 64, [&](Blob k, Blob v) {
    ++n;
    bytes += SharedCache::chargeOf(k, v);
  }) != 0) {
  }
  m->iterEnd(it);
  EXPECT_EQ(n, s.size);
  EXPECT_EQ(bytes, s.bytes);
  m->release();
  EXPECT_TRUE(cmap_test::drainRetired(*main));
}

TEST(SharedCacheThreads, MaxHoldsInEveryThread) { hammer(limitsOf(300, 0, 0), 4); }
TEST(SharedCacheThreads, MaxBytesHoldsInEveryThread) { hammer(limitsOf(0, 4000, 0), 4); }
TEST(SharedCacheThreads, BothLimitsAndTtl) { hammer(limitsOf(200, 3000, 20), 3); }
// Readers' CAS (CLOCK bit + refreshed expiry) racing writers' eviction and expiry.
TEST(SharedCacheThreads, UpdateAgeOnGetRacingWriters) { hammer(limitsOf(150, 0, 10, true), 4); }

TEST(SharedCacheThreads, ReadersNeverWaitForTheWriteLock) {
  Registered main;
  ConcurrentMap* m = newCache(limitsOf(1000, 0, 0, true));
  SharedCache& c = *m->cache();
  SetOutcome o;
  for (uint64_t i = 0; i < 500; ++i) {
    IntKey k(i);
    ASSERT_EQ(c.set(*main, k.blob(), strBlob("v" + std::to_string(i)), 1, 1000, &o, nullptr), Status::kOk);
  }
  std::atomic<int> errors{0};
  bool finished;
  {
    std::lock_guard<std::mutex> writerHoldsTheLock(m->writeLockForTesting());
    finished = runThreads(3, [&](int) {
      Registered rec;
      for (uint64_t i = 0; i < 500; ++i) {
        IntKey k(i);
        std::string v;
        if (!c.get(*rec, k.blob(), 2, [&](Blob b) { v = text(b); }) || v != "v" + std::to_string(i)) errors.fetch_add(1);
        if (!c.has(*rec, k.blob(), 2)) errors.fetch_add(1);
        uint64_t left = 0;
        bool never = true;
        if (!c.remainingTtl(*rec, k.blob(), 2, &left, &never) || never || left == 0) errors.fetch_add(1);
        IntKey absent(i + 100000);
        if (c.has(*rec, absent.blob(), 2)) errors.fetch_add(1);
      }
      (void)c.stats();
    });
  }
  EXPECT_TRUE(finished) << "readers blocked on the write lock";
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(c.stats().hits, 1500u);
  m->release();
  EXPECT_TRUE(cmap_test::drainRetired(*main));
}

}  // namespace

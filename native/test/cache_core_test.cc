// Tests of the core cache (native/core/cache.h): limits, CLOCK eviction, expiry order,
// byte accounting, removal reports and allocation failure. Time is injected (`now`).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/alloc.h"
#include "core/cache.h"

namespace {

using namespace gomap;

using U64Cache = Cache<Word64Key, Word64Value>;
using StrCache = Cache<BlobKey, BlobValue>;

struct Removal {
  uint64_t key;
  uint64_t value;
  RemovalReason reason;
};

class U64Sink : public RemovalSink<uint64_t, uint64_t> {
 public:
  void removed(const uint64_t& k, const uint64_t& v, RemovalReason r) override { log.push_back({k, v, r}); }
  void retract() override { log.pop_back(); }
  size_t count(RemovalReason r) const {
    size_t n = 0;
    for (const Removal& x : log) n += x.reason == r ? 1 : 0;
    return n;
  }
  std::vector<Removal> log;
};

MapOptions seeded(uint64_t seed = 7) {
  MapOptions o;
  o.seed = seed;
  o.fixedSeed = true;
  return o;
}

CacheLimits maxEntries(uint64_t n) {
  CacheLimits l;
  l.maxEntries = n;
  return l;
}

constexpr uint64_t kNoTtl = 0;
constexpr uint64_t kDefault = cache_detail::kDefaultTtl;

void put(U64Cache& c, uint64_t k, uint64_t v, uint64_t now = 1, uint64_t ttl = kDefault) {
  SetOutcome o;
  ASSERT_EQ(c.set(k, v, now, ttl, &o), Status::kOk);
}

Blob str(const std::string& s) { return Blob{kTagLatin1, reinterpret_cast<const uint8_t*>(s.data()), static_cast<uint32_t>(s.size())}; }

TEST(CacheCore, NeverMoreThanMaxEntries) {
  U64Sink sink;
  U64Cache c(seeded(), maxEntries(100), &sink);
  for (uint64_t i = 0; i < 10000; ++i) {
    put(c, i, i * 2);
    ASSERT_LE(c.size(), 100u);
  }
  EXPECT_EQ(c.size(), 100u);
  EXPECT_EQ(c.stats().evictions, 9900u);
  EXPECT_EQ(sink.count(RemovalReason::kEvict), 9900u);
  // The entry just written is never its own victim.
  uint64_t v = 0;
  EXPECT_TRUE(c.peek(9999, 1, &v));
  EXPECT_EQ(v, 19998u);
}

TEST(CacheCore, AFullCacheDoesNotDoubleItsTableForTheLastEntries) {
  // 120000 entries: Go would double to 2^15 buckets at 6.5 per bucket (106496); the cache
  // stays at 2^14 buckets (8 slots each = 131072 >= 120001).
  U64Cache c(seeded(), maxEntries(120000));
  for (uint64_t i = 0; i < 300000; ++i) put(c, i, i);
  EXPECT_EQ(c.size(), 120000u);
  EXPECT_EQ(c.table().stats().B, 14u);
  // Every live key is still found.
  uint64_t found = 0;
  for (uint64_t i = 0; i < 300000; ++i) found += c.peek(i, 1, nullptr) ? 1 : 0;
  EXPECT_EQ(found, 120000u);
}

TEST(CacheCore, ReferencedEntriesSurviveAScan) {
  // CLOCK: entries read since the hand last passed get a second chance, so a hot set that
  // is read between inserts outlives a stream of one-time keys.
  U64Cache c(seeded(), maxEntries(1000));
  for (uint64_t i = 0; i < 1000; ++i) put(c, i, i);
  const uint64_t kHot = 100;
  for (uint64_t round = 0; round < 50; ++round) {
    for (uint64_t h = 0; h < kHot; ++h) {
      uint64_t v;
      c.get(h, 1, &v);
    }
    for (uint64_t j = 0; j < 20; ++j) put(c, 1000000 + round * 20 + j, 0);
  }
  size_t hotLeft = 0;
  for (uint64_t h = 0; h < kHot; ++h) hotLeft += c.peek(h, 1, nullptr) ? 1 : 0;
  EXPECT_EQ(hotLeft, kHot);
}

TEST(CacheCore, PeekDoesNotProtect) {
  // Two caches, same inserts; in one the first half is read with get, in the other with
  // peek. Only get protects.
  U64Cache a(seeded(), maxEntries(64));
  U64Cache b(seeded(), maxEntries(64));
  for (uint64_t i = 0; i < 64; ++i) {
    put(a, i, i);
    put(b, i, i);
  }
  for (uint64_t i = 0; i < 32; ++i) {
    a.get(i, 1, nullptr);
    b.peek(i, 1, nullptr);
  }
  for (uint64_t i = 100; i < 132; ++i) {
    put(a, i, i);
    put(b, i, i);
  }
  size_t keptA = 0, keptB = 0;
  for (uint64_t i = 0; i < 32; ++i) {
    keptA += a.peek(i, 1, nullptr) ? 1 : 0;
    keptB += b.peek(i, 1, nullptr) ? 1 : 0;
  }
  EXPECT_EQ(keptA, 32u);
  EXPECT_LT(keptB, 32u);
  EXPECT_EQ(a.stats().hits, 32u);
  EXPECT_EQ(b.stats().hits, 0u);
}

TEST(CacheCore, ExpiryOnRead) {
  U64Sink sink;
  CacheLimits l;
  l.ttl = 100;
  U64Cache c(seeded(), l, &sink);
  put(c, 1, 10, /*now=*/1000);
  put(c, 2, 20, 1000, /*ttl=*/kNoTtl);
  uint64_t rem = 0;
  bool never = false;
  ASSERT_TRUE(c.remainingTtl(1, 1050, &rem, &never));
  EXPECT_FALSE(never);
  EXPECT_EQ(rem, 50u);
  ASSERT_TRUE(c.remainingTtl(2, 1050, &rem, &never));
  EXPECT_TRUE(never);
  EXPECT_TRUE(c.get(1, 1099, nullptr));
  EXPECT_FALSE(c.get(1, 1100, nullptr));  // expired at exactly now + ttl
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(sink.count(RemovalReason::kExpire), 1u);
  EXPECT_EQ(c.stats().expirations, 1u);
  EXPECT_TRUE(c.get(2, 1000000, nullptr));
}

TEST(CacheCore, UpdateAgeOnGetRestartsTheEntryTtl) {
  CacheLimits l;
  l.ttl = 100;
  l.updateAgeOnGet = true;
  U64Cache c(seeded(), l);
  put(c, 1, 10, 0, 50);  // its own ttl: 50
  put(c, 2, 20, 0);      // default: 100
  for (uint64_t t = 40; t <= 400; t += 40) {
    ASSERT_TRUE(c.get(1, t, nullptr)) << t;
  }
  EXPECT_FALSE(c.peek(2, 400, nullptr));
  EXPECT_FALSE(c.get(1, 400 + 50, nullptr));
}

TEST(CacheCore, LongTtlsRestartWithinASecond) {
  // ttls of 2^22 ms and more are kept in 1024 ms units: a restart is never shorter than
  // the ttl and at most 1023 ms longer.
  CacheLimits l;
  l.updateAgeOnGet = true;
  U64Cache c(seeded(), l);
  const uint64_t kTtl = (uint64_t{1} << 23) + 5;
  put(c, 1, 1, 1000, kTtl);
  put(c, 2, 2, 1000, kMaxCacheTtl);
  ASSERT_TRUE(c.get(1, 2000, nullptr));
  ASSERT_TRUE(c.get(2, 2000, nullptr));
  uint64_t rem = 0;
  bool never = true;
  ASSERT_TRUE(c.remainingTtl(1, 2000, &rem, &never));
  EXPECT_FALSE(never);
  EXPECT_GE(rem, kTtl);
  EXPECT_LT(rem, kTtl + 1024);
  ASSERT_TRUE(c.remainingTtl(2, 2000, &rem, &never));
  EXPECT_GE(rem, kMaxCacheTtl - 1023);
  EXPECT_LT(rem, kMaxCacheTtl + 1024);
}

TEST(CacheCore, ExpiredEntriesGoBeforeLiveOnes) {
  U64Sink sink;
  U64Cache c(seeded(), maxEntries(200), &sink);
  // 100 entries that expire at 50, 100 that never do; all referenced.
  for (uint64_t i = 0; i < 100; ++i) put(c, i, i, 0, 50);
  for (uint64_t i = 100; i < 200; ++i) put(c, i, i, 0, kNoTtl);
  for (uint64_t i = 0; i < 200; ++i) c.get(i, 1, nullptr);
  // At t = 60, 100 new entries: every removal is an expiry; no live entry is evicted.
  for (uint64_t i = 1000; i < 1100; ++i) put(c, i, i, 60, kNoTtl);
  EXPECT_EQ(sink.count(RemovalReason::kEvict), 0u);
  EXPECT_EQ(sink.count(RemovalReason::kExpire), 100u);
  for (uint64_t i = 100; i < 200; ++i) EXPECT_TRUE(c.peek(i, 60, nullptr)) << i;
}

TEST(CacheCore, ExpiredEntriesAnywhereGoBeforeAnyLiveOne) {
  // 10 short-lived entries scattered over a 10000-entry cache, none of them read: when
  // they have expired, the next 10 inserts remove exactly them, wherever the hand is.
  U64Sink sink;
  U64Cache c(seeded(), maxEntries(10000), &sink);
  for (uint64_t i = 0; i < 10000; ++i) put(c, i, i, 0, i % 1000 == 0 ? 50 : kNoTtl);
  for (uint64_t i = 0; i < 10; ++i) put(c, 100000 + i, 0, 60, kNoTtl);
  EXPECT_EQ(sink.count(RemovalReason::kEvict), 0u);
  EXPECT_EQ(sink.count(RemovalReason::kExpire), 10u);
  for (const Removal& r : sink.log) EXPECT_EQ(r.key % 1000, 0u);
  // The next insert has nothing expired left: it evicts a live entry.
  put(c, 200000, 0, 60, kNoTtl);
  EXPECT_EQ(sink.count(RemovalReason::kEvict), 1u);
}

TEST(CacheCore, ExpiryIndexFollowsGrowth) {
  // Entries with ttls inserted while the table doubles many times are all found again.
  CacheLimits l;
  l.maxEntries = 1u << 20;
  U64Cache c(seeded(), l);
  for (uint64_t i = 0; i < 20000; ++i) put(c, i * 31, i, i, (i % 3 == 0) ? 100 : kNoTtl);
  EXPECT_GT(c.indexBytes(), 0u);
  const uint64_t withTtl = (20000 + 2) / 3;
  c.purgeExpired(1000000);
  EXPECT_EQ(c.stats().expirations, withTtl);
  EXPECT_EQ(c.size(), 20000 - withTtl);
}

TEST(CacheCore, WithoutItsIndexExpiryStillWorks) {
  U64Cache c(seeded(), maxEntries(1000));
  for (uint64_t i = 0; i < 500; ++i) put(c, i, i, 1, kNoTtl);
  failNthAllocation(1);  // the expiry index's allocation (the table has room already)
  put(c, 9999, 1, 1, 10);
  failNthAllocation(0);
  EXPECT_EQ(c.indexBytes(), 0u);
  EXPECT_TRUE(c.peek(9999, 5, nullptr));
  EXPECT_FALSE(c.peek(9999, 20, nullptr));
  put(c, 8888, 1, 1, 10);
  c.purgeExpired(20);
  EXPECT_EQ(c.size(), 500u);
}

TEST(CacheCore, SweepRemovesExpiredEntriesOnWrites) {
  CacheLimits l;
  l.ttl = 10;
  U64Cache c(seeded(), l);
  for (uint64_t i = 0; i < 1000; ++i) put(c, i, i, 0);
  EXPECT_EQ(c.size(), 1000u);
  // Writes after the expiry sweep a bounded number of buckets each, and eventually all.
  for (uint64_t i = 0; i < 1000; ++i) put(c, 5000 + i, i, 100, kNoTtl);
  EXPECT_EQ(c.size(), 1000u);
  EXPECT_EQ(c.stats().expirations, 1000u);
  c.purgeExpired(100);
  EXPECT_EQ(c.size(), 1000u);
}

TEST(CacheCore, ByteAccountingAndMaxBytes) {
  CacheLimits l;
  l.maxBytes = 100;
  StrCache c(seeded(), l);
  SetOutcome o;
  std::string v10(10, 'v');
  for (int i = 0; i < 50; ++i) {
    std::string k = "key" + std::to_string(i % 10) + "x";  // 5 bytes
    ASSERT_EQ(c.set(str(k), str(v10), 1, kDefault, &o), Status::kOk);
    ASSERT_LE(c.bytes(), 100u);
  }
  EXPECT_EQ(c.size(), 6u);   // 6 * 15 = 90 <= 100 < 105
  EXPECT_EQ(c.bytes(), 90u);
  // Overwrite with a longer value: the charge changes by the difference.
  std::string v30(30, 'w');
  ASSERT_EQ(c.set(str("key9x"), str(v30), 1, kDefault, &o), Status::kOk);
  EXPECT_LE(c.bytes(), 100u);
  Blob got;
  ASSERT_TRUE(c.peek(str("key9x"), 1, &got));
  EXPECT_EQ(got.len, 30u);
  // An entry bigger than maxBytes is refused and removes the old one under its key.
  std::string huge(200, 'h');
  ASSERT_EQ(c.set(str("key9x"), str(huge), 1, kDefault, &o), Status::kOk);
  EXPECT_EQ(o, SetOutcome::kRefused);
  EXPECT_FALSE(c.peek(str("key9x"), 1, nullptr));
  uint64_t sum = 0;
  typename StrCache::Iterator it(c.table());
  Blob k;
  StrCache::Slot::View v;
  while (it.next(&k, &v)) sum += k.len + v.value.len;
  EXPECT_EQ(sum, c.bytes());
  c.clear();
  EXPECT_EQ(c.bytes(), 0u);
}

// An admission policy that refuses every newcomer and counts what it saw.
struct RefuseAll {
  static constexpr bool kEnabled = true;
  uint64_t accesses = 0;
  void recordAccess(uint64_t) { ++accesses; }
  bool admit(uint64_t, uint64_t) { return false; }
};

TEST(CacheCore, AdmissionCanTurnANewcomerAway) {
  Cache<Word64Key, Word64Value, RefuseAll> c(seeded(), maxEntries(10));
  SetOutcome o;
  for (uint64_t i = 0; i < 10; ++i) ASSERT_EQ(c.set(i, i, 1, kDefault, &o), Status::kOk);
  for (uint64_t i = 100; i < 120; ++i) {
    ASSERT_EQ(c.set(i, i, 1, kDefault, &o), Status::kOk);
    ASSERT_EQ(c.size(), 10u);
    EXPECT_FALSE(c.peek(i, 1, nullptr));
  }
  for (uint64_t i = 0; i < 10; ++i) EXPECT_TRUE(c.peek(i, 1, nullptr)) << i;
  EXPECT_EQ(c.stats().evictions, 20u);
  EXPECT_EQ(c.bytes(), 160u);
}

TEST(CacheCore, ReportsEveryReason) {
  U64Sink sink;
  CacheLimits l;
  l.maxEntries = 2;
  U64Cache c(seeded(), l, &sink);
  put(c, 1, 10);
  put(c, 1, 11);  // set
  put(c, 2, 20);
  put(c, 3, 30);  // evict (1 or 2)
  ASSERT_TRUE(c.erase(3));  // delete
  put(c, 4, 40, 5, 1);
  EXPECT_FALSE(c.get(4, 10, nullptr));  // expire
  ASSERT_EQ(sink.log.size(), 4u);
  EXPECT_EQ(sink.log[0].reason, RemovalReason::kSet);
  EXPECT_EQ(sink.log[0].value, 10u);
  EXPECT_EQ(sink.log[1].reason, RemovalReason::kEvict);
  EXPECT_EQ(sink.log[2].reason, RemovalReason::kDelete);
  EXPECT_EQ(sink.log[2].key, 3u);
  EXPECT_EQ(sink.log[3].reason, RemovalReason::kExpire);
  EXPECT_EQ(sink.log[3].key, 4u);
  sink.log.clear();
  c.clear();
  EXPECT_EQ(sink.log.size(), 1u);
  EXPECT_EQ(sink.log[0].reason, RemovalReason::kDelete);
}

TEST(CacheCore, LimitsHoldWhileTheTableGrows) {
  // No entry limit: the table doubles incrementally while the byte limit evicts.
  CacheLimits l;
  l.maxBytes = 16 * 5000;
  U64Cache c(seeded(), l);
  for (uint64_t i = 0; i < 50000; ++i) {
    put(c, i * 7919, i);
    ASSERT_LE(c.bytes(), l.maxBytes);
    ASSERT_EQ(c.bytes(), 16 * c.size());
  }
  EXPECT_EQ(c.size(), 5000u);
}

TEST(CacheCore, AllocationFailureLeavesTheCacheUnchanged) {
  U64Sink sink;
  CacheLimits l;
  l.maxEntries = 50;
  StrCache c(seeded(), l);
  std::vector<std::string> keys;
  for (int i = 0; i < 50; ++i) keys.push_back("a long key that lives in a box #" + std::to_string(i));
  SetOutcome o;
  for (const auto& k : keys) ASSERT_EQ(c.set(str(k), str("v"), 1, kDefault, &o), Status::kOk);
  const uint64_t bytesBefore = c.bytes();
  const CacheStats before = c.stats();
  // A new long key needs a box: fail that allocation, then sweep over the next few.
  for (uint64_t n = 1; n <= 4; ++n) {
    failNthAllocation(n);
    std::string k = "another long key that needs a box " + std::to_string(n);
    Status s = c.set(str(k), str("v"), 1, kDefault, &o);
    failNthAllocation(0);
    if (s == Status::kOk) {
      ASSERT_TRUE(c.erase(str(k)));
      // It evicted one entry to fit: put it back for the next round.
      for (const auto& key : keys) {
        if (!c.peek(str(key), 1, nullptr)) ASSERT_EQ(c.set(str(key), str("v"), 1, kDefault, &o), Status::kOk);
      }
      continue;
    }
    EXPECT_EQ(s, Status::kNoMemory);
    EXPECT_EQ(c.size(), 50u);
    EXPECT_EQ(c.bytes(), bytesBefore);
    EXPECT_EQ(c.stats().evictions, before.evictions);
    for (const auto& key : keys) EXPECT_TRUE(c.peek(str(key), 1, nullptr)) << key;
  }
}

TEST(CacheCore, ClockApproximatesLruOnASkewedTrace) {
  // A deterministic skewed trace (80% of reads on 20% of keys): CLOCK's hit ratio is
  // within a few percent of an exact LRU's.
  const uint64_t kKeys = 20000, kCap = 2000, kOps = 200000;
  U64Cache c(seeded(), maxEntries(kCap));
  std::map<uint64_t, uint64_t> lruPos;    // key -> last use
  std::map<uint64_t, uint64_t> byTime;    // last use -> key
  SplitMix64 rng(99);
  uint64_t clockHits = 0, lruHits = 0;
  for (uint64_t t = 1; t <= kOps; ++t) {
    uint64_t r = rng.next();
    uint64_t key = (r % 10 < 8) ? (r >> 8) % (kKeys / 5) : (r >> 8) % kKeys;
    if (c.get(key, 1, nullptr)) ++clockHits;
    else put(c, key, key);
    auto it = lruPos.find(key);
    if (it != lruPos.end()) {
      ++lruHits;
      byTime.erase(it->second);
    } else if (lruPos.size() == kCap) {
      auto oldest = byTime.begin();
      lruPos.erase(oldest->second);
      byTime.erase(oldest);
    }
    lruPos[key] = t;
    byTime[t] = key;
  }
  double clock = static_cast<double>(clockHits) / kOps, lru = static_cast<double>(lruHits) / kOps;
  EXPECT_GE(clock, 0.95 * lru) << "clock " << clock << " lru " << lru;
}

}  // namespace

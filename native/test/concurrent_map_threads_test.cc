// ConcurrentMap under real threads (run under ThreadSanitizer by `npm run test:tsan`):
// no lost updates, one loadOrStore winner per key, readers never see a value that was
// not stored for their key, iteration guarantees with concurrent writers and grows,
// lock-free reads while a writer holds the lock (also mid-grow), and memory that all
// comes back at the end.
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "concurrent_test_util.h"

namespace {

using namespace cmap_test;

constexpr int kThreads = 4;

std::string valueFor(uint64_t key, uint64_t version) {
  return "k" + std::to_string(key) + ":v" + std::to_string(version);
}
// Whether a value read for `key` is one some writer stored for it.
bool plausibleValueFor(uint64_t key, const std::string& value) {
  const std::string prefix = "k" + std::to_string(key) + ":v";
  return value.compare(0, prefix.size(), prefix) == 0 && value.size() > prefix.size();
}

TEST(ConcurrentMapThreads, CompareAndSwapCountersLoseNoUpdate) {
  constexpr uint64_t kKeys = 64;
  constexpr int kIncrements = 300;
  Registered main;
  ConcurrentMap* m = newMap();
  for (uint64_t k = 0; k < kKeys; ++k) {
    IntKey key(k);
    IntKey zero(0);
    ASSERT_EQ(m->store(*main, key.blob(), zero.blob(), nullptr), Status::kOk);
  }
  std::atomic<bool> stop{false};
  std::atomic<int> readerErrors{0};
  std::thread reader([&] {
    Registered rec;
    std::vector<uint64_t> last(kKeys, 0);
    while (!stop.load(std::memory_order_relaxed)) {
      for (uint64_t k = 0; k < kKeys; ++k) {
        IntKey key(k);
        uint64_t v = 0;
        if (!m->load(*rec, key.blob(), [&](Blob b) { v = intOf(b); })) readerErrors.fetch_add(1);
        if (v < last[k]) readerErrors.fetch_add(1);  // a counter never goes back
        last[k] = v;
      }
    }
  });
  bool finished = runThreads(kThreads, [&](int) {
    Registered rec;
    for (int n = 0; n < kIncrements; ++n) {
      for (uint64_t k = 0; k < kKeys; ++k) {
        IntKey key(k);
        for (;;) {
          uint64_t cur = 0;
          ASSERT_TRUE(m->load(*rec, key.blob(), [&](Blob b) { cur = intOf(b); }));
          IntKey expected(cur), next(cur + 1);
          bool swapped = false;
          ASSERT_EQ(m->compareAndSwap(*rec, key.blob(), expected.blob(), next.blob(), &swapped), Status::kOk);
          if (swapped) break;
        }
      }
    }
  });
  stop.store(true);
  reader.join();
  ASSERT_TRUE(finished);
  EXPECT_EQ(readerErrors.load(), 0);
  for (uint64_t k = 0; k < kKeys; ++k) {
    IntKey key(k);
    uint64_t v = 0;
    ASSERT_TRUE(m->load(*main, key.blob(), [&](Blob b) { v = intOf(b); }));
    EXPECT_EQ(v, static_cast<uint64_t>(kThreads) * kIncrements) << "key " << k;
  }
  m->release();
  EXPECT_TRUE(drainRetired(*main));
}

// Two writers store batches (storeMany) into a growing map, each over its own keys, while
// a reader loads and iterates: every value seen was stored for its key, a key's version
// never goes back for a reader, and at the end each key holds its last batch's value.
TEST(ConcurrentMapThreads, StoreManyBatchesWithConcurrentReaders) {
  constexpr uint64_t kKeys = 3000;
  constexpr int kBatches = 120;
  constexpr uint64_t kBatch = 97;
  Registered main;
  ConcurrentMap* m = newMap(5);
  auto versionOf = [](const std::string& v) { return std::stoull(v.substr(v.find(":v") + 2)); };
  std::atomic<bool> stop{false};
  std::atomic<int> readerErrors{0};
  std::thread reader([&] {
    Registered rec;
    std::vector<uint64_t> last(kKeys, 0);
    uint64_t x = 1;
    while (!stop.load(std::memory_order_relaxed)) {
      for (int i = 0; i < 200; ++i) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const uint64_t k = (x >> 33) % kKeys;
        IntKey key(k);
        std::string seen;
        if (!m->load(*rec, key.blob(), [&](Blob b) { seen = text(b); })) continue;
        if (!plausibleValueFor(k, seen) || versionOf(seen) < last[k]) readerErrors.fetch_add(1);
        else last[k] = versionOf(seen);
      }
      ConcurrentMap::Iterator* it = nullptr;
      if (m->iterStart(*rec, &it) != Status::kOk) continue;
      while (m->iterNext(*rec, it, 256, [&](Blob k, Blob v) {
        if (!plausibleValueFor(intOf(k), text(v))) readerErrors.fetch_add(1);
      }) != 0) {
      }
      m->iterEnd(it);
    }
  });
  std::vector<std::vector<uint64_t>> finalVersion(2, std::vector<uint64_t>(kKeys, 0));
  bool finished = runThreads(2, [&](int w) {
    Registered rec;
    for (int b = 1; b <= kBatches; ++b) {
      std::vector<IntKey> keys;
      std::vector<std::string> values;
      for (uint64_t j = 0; j < kBatch; ++j) {
        const uint64_t k = ((static_cast<uint64_t>(b) * 53 + j * 2) % kKeys & ~uint64_t{1}) | static_cast<uint64_t>(w);
        if (k >= kKeys) continue;
        keys.emplace_back(k);
        values.push_back(valueFor(k, static_cast<uint64_t>(b)));
        finalVersion[w][k] = static_cast<uint64_t>(b);
      }
      std::vector<Blob> kb, vb;
      for (auto& k : keys) kb.push_back(k.blob());
      for (auto& v : values) vb.push_back(strBlob(v));
      ASSERT_EQ(m->storeMany(*rec, kb.data(), vb.data(), kb.size(), nullptr), Status::kOk);
    }
  });
  stop.store(true);
  reader.join();
  ASSERT_TRUE(finished);
  EXPECT_EQ(readerErrors.load(), 0);
  uint64_t present = 0;
  for (uint64_t k = 0; k < kKeys; ++k) {
    const uint64_t want = finalVersion[k & 1][k];
    IntKey key(k);
    std::string seen = "<absent>";
    m->load(*main, key.blob(), [&](Blob b) { seen = text(b); });
    if (want == 0) {
      EXPECT_EQ(seen, "<absent>") << k;
    } else {
      ++present;
      EXPECT_EQ(seen, valueFor(k, want)) << k;
    }
  }
  EXPECT_EQ(m->size(), present);
  m->release();
  EXPECT_TRUE(drainRetired(*main));
}

// Swaps on one hot key from every thread: each value stored must be handed back as some
// swap's previous value exactly once (or be the final value): nothing lost, nothing twice.
TEST(ConcurrentMapThreads, SwapsHandBackEveryValueExactlyOnce) {
  constexpr uint64_t kSwaps = 2000;
  Registered main;
  ConcurrentMap* m = newMap(8);
  IntKey hot(77);
  IntKey initial(0);
  ASSERT_EQ(m->store(*main, hot.blob(), initial.blob(), nullptr), Status::kOk);
  std::vector<std::vector<uint64_t>> previous(kThreads);
  ASSERT_TRUE(runThreads(kThreads, [&](int id) {
    Registered rec;
    for (uint64_t n = 1; n <= kSwaps; ++n) {
      IntKey mine(static_cast<uint64_t>(id + 1) << 32 | n);  // unique per thread and swap
      bool loaded = false;
      uint64_t prev = 0;
      ASSERT_EQ(m->swap(*rec, hot.blob(), mine.blob(), [&](Blob b) { prev = intOf(b); }, &loaded), Status::kOk);
      ASSERT_TRUE(loaded);
      previous[id].push_back(prev);
    }
  }));
  std::set<uint64_t> handedBack;
  size_t total = 0;
  for (auto& list : previous) {
    for (uint64_t v : list) {
      EXPECT_TRUE(handedBack.insert(v).second) << "value " << v << " handed back twice";
      ++total;
    }
  }
  uint64_t last = 0;
  ASSERT_TRUE(m->load(*main, hot.blob(), [&](Blob b) { last = intOf(b); }));
  EXPECT_EQ(handedBack.count(last), 0u);
  handedBack.insert(last);
  // Exactly the initial value and every value written.
  EXPECT_EQ(total, kThreads * kSwaps);
  EXPECT_EQ(handedBack.size(), kThreads * kSwaps + 1);
  EXPECT_EQ(handedBack.count(0), 1u);
  for (int id = 0; id < kThreads; ++id) {
    for (uint64_t n = 1; n <= kSwaps; ++n) {
      if (handedBack.count(static_cast<uint64_t>(id + 1) << 32 | n) != 1) {
        ADD_FAILURE() << "value of thread " << id << " swap " << n << " lost";
        break;
      }
    }
  }
  m->release();
  EXPECT_TRUE(drainRetired(*main));
}

TEST(ConcurrentMapThreads, LoadOrStoreHasExactlyOneWinnerPerKey) {
  constexpr uint64_t kKeys = 3000;  // several grows while the threads race
  Registered main;
  ConcurrentMap* m = newMap(3);
  std::vector<std::atomic<int>> winners(kKeys);
  std::vector<std::atomic<int>> winnerId(kKeys);
  for (auto& w : winners) w.store(0);
  std::atomic<int> disagreements{0};
  std::vector<std::vector<uint64_t>> seen(kThreads, std::vector<uint64_t>(kKeys));
  ASSERT_TRUE(runThreads(kThreads, [&](int id) {
    Registered rec;
    for (uint64_t k = 0; k < kKeys; ++k) {
      IntKey key(k), mine(static_cast<uint64_t>(id));
      bool loaded = true;
      uint64_t existing = ~uint64_t{0};
      ASSERT_EQ(m->loadOrStore(*rec, key.blob(), mine.blob(), [&](Blob b) { existing = intOf(b); }, &loaded),
                Status::kOk);
      if (!loaded) {
        winners[k].fetch_add(1);
        seen[id][k] = static_cast<uint64_t>(id);
      } else {
        seen[id][k] = existing;
      }
    }
  }));
  for (uint64_t k = 0; k < kKeys; ++k) {
    EXPECT_EQ(winners[k].load(), 1) << "key " << k;
    IntKey key(k);
    uint64_t stored = 0;
    ASSERT_TRUE(m->load(*main, key.blob(), [&](Blob b) { stored = intOf(b); }));
    for (int id = 0; id < kThreads; ++id) {
      if (seen[id][k] != stored) disagreements.fetch_add(1);
    }
  }
  EXPECT_EQ(disagreements.load(), 0);
  EXPECT_EQ(m->size(), kKeys);
  m->release();
  EXPECT_TRUE(drainRetired(*main));
}

// Writers own disjoint key ranges (so each knows the truth of its keys) and insert,
// overwrite and delete through many grows; readers check every value they see; an
// iterator thread checks Go's guarantees on keys that never change membership.
TEST(ConcurrentMapThreads, ReadersWritersGrowsDeletesAndIteration) {
  constexpr uint64_t kStable = 400;     // present for the whole test
  constexpr uint64_t kGone = 400;       // deleted before any iteration starts
  constexpr uint64_t kPerWriter = 1500; // churned keys per writer
  constexpr int kWriters = 2;
  constexpr int kRounds = 3;
  Registered main;
  ConcurrentMap* m = newMap(5);
  auto stableKey = [](uint64_t i) { return i; };
  auto goneKey = [](uint64_t i) { return 1000000 + i; };
  auto churnKey = [](int w, uint64_t i) { return 2000000 + static_cast<uint64_t>(w) * 1000000 + i; };
  for (uint64_t i = 0; i < kStable; ++i) {
    IntKey key(stableKey(i));
    ASSERT_EQ(m->store(*main, key.blob(), strBlob(valueFor(stableKey(i), 0)), nullptr), Status::kOk);
  }
  for (uint64_t i = 0; i < kGone; ++i) {
    IntKey key(goneKey(i));
    ASSERT_EQ(m->store(*main, key.blob(), strBlob(valueFor(goneKey(i), 0)), nullptr), Status::kOk);
  }
  for (uint64_t i = 0; i < kGone; ++i) {
    IntKey key(goneKey(i));
    ASSERT_TRUE(m->erase(*main, key.blob()));
  }

  std::atomic<bool> stop{false};
  std::atomic<int> badValues{0}, missingStable{0}, iterationErrors{0}, iterations{0};
  auto checkEntry = [&](Blob k, Blob v) {
    if (!plausibleValueFor(intOf(k), text(v))) badValues.fetch_add(1);
  };
  auto reader = [&](int) {
    Registered rec;
    uint64_t i = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      IntKey s(stableKey(i % kStable));
      if (!m->load(*rec, s.blob(), [&](Blob v) { checkEntry(s.blob(), v); })) missingStable.fetch_add(1);
      IntKey c(churnKey(static_cast<int>(i % kWriters), i % kPerWriter));
      m->load(*rec, c.blob(), [&](Blob v) { checkEntry(c.blob(), v); });
      IntKey g(goneKey(i % kGone));
      if (m->contains(*rec, g.blob())) badValues.fetch_add(1);
      ++i;
    }
  };
  auto iterator = [&](int) {
    Registered rec;
    while (!stop.load(std::memory_order_relaxed)) {
      ConcurrentMap::Iterator* it = nullptr;
      if (m->iterStart(*rec, &it) != Status::kOk) {
        iterationErrors.fetch_add(1);
        return;
      }
      std::map<uint64_t, int> produced;
      while (m->iterNext(*rec, it, 16, [&](Blob k, Blob v) {
        checkEntry(k, v);
        ++produced[intOf(k)];
      }) != 0) {
      }
      m->iterEnd(it);
      for (uint64_t i = 0; i < kStable; ++i) {
        if (produced[stableKey(i)] != 1) iterationErrors.fetch_add(1);
      }
      for (uint64_t i = 0; i < kGone; ++i) {
        if (produced.count(goneKey(i)) != 0) iterationErrors.fetch_add(1);
      }
      for (auto& kv : produced) {
        if (kv.second != 1 && kv.first < 1000000) iterationErrors.fetch_add(1);
      }
      iterations.fetch_add(1);
    }
  };
  auto writer = [&](int w) {
    Registered rec;
    for (int round = 1; round <= kRounds; ++round) {
      for (uint64_t i = 0; i < kPerWriter; ++i) {
        IntKey key(churnKey(w, i));
        ASSERT_EQ(m->store(*rec, key.blob(), strBlob(valueFor(churnKey(w, i), round)), nullptr), Status::kOk);
      }
      for (uint64_t i = 0; i < kPerWriter; i += 2) {
        IntKey key(churnKey(w, i));
        ASSERT_TRUE(m->erase(*rec, key.blob()));
      }
      for (uint64_t i = 0; i < kStable; i += 7) {  // overwrite stable keys too
        IntKey key(stableKey(i));
        ASSERT_EQ(m->store(*rec, key.blob(), strBlob(valueFor(stableKey(i), round * 10 + w)), nullptr),
                  Status::kOk);
      }
    }
  };
  std::thread readers([&] { ASSERT_TRUE(runThreads(2, reader)); });
  std::thread iterators([&] { ASSERT_TRUE(runThreads(1, iterator)); });
  ASSERT_TRUE(runThreads(kWriters, writer));
  // Let the iterator finish at least one pass after the writers.
  for (int spins = 0; iterations.load() < 2 && spins < 100000; ++spins) std::this_thread::yield();
  stop.store(true);
  readers.join();
  iterators.join();
  EXPECT_EQ(badValues.load(), 0);
  EXPECT_EQ(missingStable.load(), 0);
  EXPECT_EQ(iterationErrors.load(), 0);
  EXPECT_GE(iterations.load(), 1);
  EXPECT_EQ(m->size(), kStable + kWriters * kPerWriter / 2);
  gomap::MapStats s = m->stats(*main);
  EXPECT_GE(s.grows, 3u);

  // Everything back: erase all, and the retired entries are freed.
  for (uint64_t i = 0; i < kStable; ++i) {
    IntKey key(stableKey(i));
    EXPECT_TRUE(m->erase(*main, key.blob()));
  }
  for (int w = 0; w < kWriters; ++w) {
    for (uint64_t i = 1; i < kPerWriter; i += 2) {
      IntKey key(churnKey(w, i));
      EXPECT_TRUE(m->erase(*main, key.blob()));
    }
  }
  EXPECT_EQ(m->size(), 0u);
  m->release();
  EXPECT_TRUE(drainRetired(*main));
}

// Few buckets and long overflow chains: deletes rewrite empty-rest runs across chain
// buckets and trigger same-size grows, while readers walk the same chains.
uint64_t fourBuckets(uint64_t h) { return h & 0xff00000000000003ull; }

TEST(ConcurrentMapThreads, ReadersOnLongChainsDuringSameSizeGrows) {
  constexpr uint64_t kStable = 120;
  constexpr uint64_t kChurn = 200;
  Registered main;
  ConcurrentMap* m = newMap(6, fourBuckets);
  for (uint64_t k = 0; k < kStable; ++k) {
    IntKey key(k);
    ASSERT_EQ(m->store(*main, key.blob(), strBlob(valueFor(k, 0)), nullptr), Status::kOk);
  }
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::thread writer([&] {
    Registered rec;
    for (int round = 0; round < 12; ++round) {
      for (uint64_t i = 0; i < kChurn; ++i) {
        IntKey key(1000 + i);
        if (m->store(*rec, key.blob(), strBlob(valueFor(1000 + i, round)), nullptr) != Status::kOk) errors.fetch_add(1);
      }
      for (uint64_t i = 0; i < kChurn; ++i) {
        IntKey key(1000 + i);
        if (!m->erase(*rec, key.blob())) errors.fetch_add(1);
      }
    }
    stop.store(true);
  });
  ASSERT_TRUE(runThreads(2, [&](int) {
    Registered rec;
    while (!stop.load(std::memory_order_relaxed)) {
      for (uint64_t k = 0; k < kStable; ++k) {
        IntKey key(k);
        std::string v;
        if (!m->load(*rec, key.blob(), [&](Blob b) { v = text(b); }) || v != valueFor(k, 0)) errors.fetch_add(1);
      }
    }
  }));
  writer.join();
  EXPECT_EQ(errors.load(), 0);
  gomap::MapStats s = m->stats(*main);
  EXPECT_GT(s.sameSizeGrows + s.grows, 0u);
  EXPECT_EQ(m->size(), kStable);
  m->release();
  EXPECT_TRUE(drainRetired(*main));
}

// The write lock held by a "writer" must not stop any read: lookups, contains, size and
// iteration all complete, also while an incremental grow is in progress.
TEST(ConcurrentMapThreads, ReadsAreLockFreeEvenMidGrow) {
  Registered main;
  ConcurrentMap* m = newMap(9);
  std::vector<uint64_t> keys;
  for (uint64_t k = 0;; ++k) {
    IntKey key(k);
    ASSERT_EQ(m->store(*main, key.blob(), strBlob(valueFor(k, 1)), nullptr), Status::kOk);
    keys.push_back(k);
    if (k > 200 && m->stats(*main).growing) break;
    ASSERT_LT(k, 100000u);
  }
  gomap::MapStats before = m->stats(*main);
  ASSERT_TRUE(before.growing);
  ASSERT_LT(before.evacuated, before.oldBuckets);

  std::atomic<int> errors{0};
  bool finished;
  {
    std::lock_guard<std::mutex> writerHoldsTheLock(m->writeLockForTesting());
    finished = runThreads(
        3,
        [&](int) {
          Registered rec;
          for (uint64_t k : keys) {
            IntKey key(k);
            std::string v;
            if (!m->load(*rec, key.blob(), [&](Blob b) { v = text(b); }) || v != valueFor(k, 1)) errors.fetch_add(1);
            if (!m->contains(*rec, key.blob())) errors.fetch_add(1);
            IntKey absent(k + 1000000);
            if (m->contains(*rec, absent.blob())) errors.fetch_add(1);
          }
          if (m->size() != keys.size()) errors.fetch_add(1);
          ConcurrentMap::Iterator* it = nullptr;
          if (m->iterStart(*rec, &it) != Status::kOk) {
            errors.fetch_add(1);
            return;
          }
          size_t n = 0, step;
          while ((step = m->iterNext(*rec, it, 32, [](Blob, Blob) {})) != 0) n += step;
          m->iterEnd(it);
          if (n != keys.size()) errors.fetch_add(1);
        },
        std::chrono::seconds(60));
  }
  EXPECT_TRUE(finished) << "readers blocked on the write lock";
  EXPECT_EQ(errors.load(), 0);
  EXPECT_TRUE(m->stats(*main).growing);  // nothing finished the grow meanwhile
  m->release();
  EXPECT_TRUE(drainRetired(*main));
}

}  // namespace

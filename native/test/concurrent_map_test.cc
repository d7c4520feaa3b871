// ConcurrentMap: single-threaded semantics of every operation (the sync.Map methods),
// and the reference counting of views and iterators.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "concurrent_test_util.h"
#include "core/random.h"

#include "core/concurrent_map.h"

namespace {

using gomap::Blob;
using gomap::ConcurrentMap;
using gomap::Status;

Blob str(const std::string& s) {
  return Blob{gomap::kTagLatin1, reinterpret_cast<const uint8_t*>(s.data()), static_cast<uint32_t>(s.size())};
}
std::string text(Blob b) { return std::string(reinterpret_cast<const char*>(b.data), b.len); }

class ConcurrentMapBasics : public ::testing::Test {
 protected:
  void SetUp() override {
    rec_ = gomap::ebr::registerThread();
    ASSERT_NE(rec_, nullptr);
    gomap::MapOptions options;
    options.fixedSeed = true;
    options.seed = 7;
    ASSERT_EQ(ConcurrentMap::create(options, &map_), Status::kOk);
  }
  void TearDown() override {
    map_->release();
    gomap::ebr::unregisterThread(rec_);
  }
  std::string get(const std::string& k) {
    std::string out = "<absent>";
    map_->load(*rec_, str(k), [&](Blob v) { out = text(v); });
    return out;
  }
  gomap::ebr::ThreadRecord* rec_ = nullptr;
  ConcurrentMap* map_ = nullptr;
};

TEST_F(ConcurrentMapBasics, StoreLoadEraseAndSize) {
  bool inserted = false;
  ASSERT_EQ(map_->store(*rec_, str("a"), str("1"), &inserted), Status::kOk);
  EXPECT_TRUE(inserted);
  ASSERT_EQ(map_->store(*rec_, str("a"), str("2"), &inserted), Status::kOk);
  EXPECT_FALSE(inserted);
  EXPECT_EQ(get("a"), "2");
  EXPECT_TRUE(map_->contains(*rec_, str("a")));
  EXPECT_FALSE(map_->contains(*rec_, str("b")));
  EXPECT_EQ(map_->size(), 1u);
  EXPECT_TRUE(map_->erase(*rec_, str("a")));
  EXPECT_FALSE(map_->erase(*rec_, str("a")));
  EXPECT_EQ(map_->size(), 0u);
  EXPECT_EQ(get("a"), "<absent>");
}

TEST_F(ConcurrentMapBasics, LoadManyAnswersEveryKeyInOrder) {
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) keys.push_back("k" + std::to_string(i));
  for (int i = 0; i < 40; i += 2) ASSERT_EQ(map_->store(*rec_, str(keys[i]), str("v" + keys[i]), nullptr), Status::kOk);
  std::vector<Blob> views;
  for (auto& k : keys) views.push_back(str(k));
  size_t calls = 0;
  map_->loadMany(*rec_, views.data(), views.size(), [&](size_t i, bool found, Blob v) {
    EXPECT_EQ(i, calls++);
    EXPECT_EQ(found, i % 2 == 0) << i;
    if (found) EXPECT_EQ(text(v), "v" + keys[i]);
  });
  EXPECT_EQ(calls, keys.size());
}

TEST_F(ConcurrentMapBasics, TagIsPartOfTheKey) {
  bool inserted = false;
  const std::string k = "k";
  Blob latin = str(k);
  Blob bytes = latin;
  bytes.tag = gomap::kTagBytes;
  ASSERT_EQ(map_->store(*rec_, latin, str("latin"), &inserted), Status::kOk);
  ASSERT_EQ(map_->store(*rec_, bytes, str("bytes"), &inserted), Status::kOk);
  EXPECT_TRUE(inserted);
  EXPECT_EQ(map_->size(), 2u);
}

TEST_F(ConcurrentMapBasics, SyncMapMethods) {
  bool loaded = true;
  std::string seen;
  ASSERT_EQ(map_->loadOrStore(*rec_, str("k"), str("v1"), [&](Blob v) { seen = text(v); }, &loaded), Status::kOk);
  EXPECT_FALSE(loaded);
  ASSERT_EQ(map_->loadOrStore(*rec_, str("k"), str("v2"), [&](Blob v) { seen = text(v); }, &loaded), Status::kOk);
  EXPECT_TRUE(loaded);
  EXPECT_EQ(seen, "v1");

  ASSERT_EQ(map_->swap(*rec_, str("k"), str("v3"), [&](Blob v) { seen = text(v); }, &loaded), Status::kOk);
  EXPECT_TRUE(loaded);
  EXPECT_EQ(seen, "v1");
  EXPECT_EQ(get("k"), "v3");

  bool swapped = true;
  ASSERT_EQ(map_->compareAndSwap(*rec_, str("k"), str("nope"), str("v4"), &swapped), Status::kOk);
  EXPECT_FALSE(swapped);
  ASSERT_EQ(map_->compareAndSwap(*rec_, str("k"), str("v3"), str("v4"), &swapped), Status::kOk);
  EXPECT_TRUE(swapped);
  EXPECT_EQ(get("k"), "v4");
  // Equal bytes under another tag are a different value.
  const std::string v4 = "v4";
  Blob taggedBytes = str(v4);
  taggedBytes.tag = gomap::kTagBytes;
  EXPECT_FALSE(map_->compareAndDelete(*rec_, str("k"), taggedBytes));
  EXPECT_TRUE(map_->compareAndDelete(*rec_, str("k"), str("v4")));
  EXPECT_FALSE(map_->contains(*rec_, str("k")));

  ASSERT_EQ(map_->store(*rec_, str("k"), str("v5"), nullptr), Status::kOk);
  EXPECT_TRUE(map_->loadAndDelete(*rec_, str("k"), [&](Blob v) { seen = text(v); }));
  EXPECT_EQ(seen, "v5");
  EXPECT_FALSE(map_->loadAndDelete(*rec_, str("k"), [&](Blob) { ADD_FAILURE(); }));
}

TEST_F(ConcurrentMapBasics, IterationProducesEveryEntryOnceAndAllowsDeletes) {
  constexpr int kEntries = 500;
  for (int i = 0; i < kEntries; ++i) {
    ASSERT_EQ(map_->store(*rec_, str("key" + std::to_string(i)), str(std::to_string(i)), nullptr), Status::kOk);
  }
  ConcurrentMap::Iterator* it = nullptr;
  ASSERT_EQ(map_->iterStart(*rec_, &it), Status::kOk);
  std::map<std::string, std::string> seen;
  size_t n;
  while ((n = map_->iterNext(*rec_, it, 7, [&](Blob k, Blob v) {
            EXPECT_TRUE(seen.emplace(text(k), text(v)).second) << text(k);
            map_->erase(*rec_, k);  // deleting inside the callback is allowed
          })) != 0) {
  }
  map_->iterEnd(it);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kEntries));
  for (auto& kv : seen) EXPECT_EQ("key" + kv.second, kv.first);
  EXPECT_EQ(map_->size(), 0u);
}

TEST_F(ConcurrentMapBasics, ClearEmptiesTheMap) {
  for (int i = 0; i < 100; ++i) ASSERT_EQ(map_->store(*rec_, str(std::to_string(i)), str("x"), nullptr), Status::kOk);
  map_->clear(*rec_);
  EXPECT_EQ(map_->size(), 0u);
  EXPECT_FALSE(map_->contains(*rec_, str("5")));
}

TEST_F(ConcurrentMapBasics, IteratorKeepsTheMapAliveAfterTheLastView) {
  ASSERT_EQ(map_->store(*rec_, str("a"), str("1"), nullptr), Status::kOk);
  ConcurrentMap::Iterator* it = nullptr;
  ASSERT_EQ(map_->iterStart(*rec_, &it), Status::kOk);
  map_->retain();
  map_->release();
  size_t n = map_->iterNext(*rec_, it, 10, [](Blob, Blob) {});
  EXPECT_EQ(n, 1u);
  map_->iterEnd(it);
}

// Random operations against std::unordered_map, through many grows, same-size grows
// (forced collisions make long overflow chains) and deletes.
void runModel(uint64_t (*hashOverride)(uint64_t), uint64_t seed, int ops, uint64_t universe) {
  cmap_test::Registered rec;
  ConcurrentMap* m = cmap_test::newMap(seed, hashOverride);
  std::unordered_map<std::string, std::string> model;
  gomap::SplitMix64 rng(seed);
  for (int op = 0; op < ops; ++op) {
    const std::string k = "key" + std::to_string(rng.next() % universe);
    const std::string v = "v" + std::to_string(op);
    const Blob kb = str(k), vb = str(v);
    auto it = model.find(k);
    const bool present = it != model.end();
    switch (rng.next() % 8) {
      case 0:
      case 1:
      case 2: {
        bool inserted = false;
        ASSERT_EQ(m->store(*rec, kb, vb, &inserted), Status::kOk);
        EXPECT_EQ(inserted, !present);
        model[k] = v;
        break;
      }
      case 3: {
        bool loaded = false;
        std::string seen;
        ASSERT_EQ(m->loadOrStore(*rec, kb, vb, [&](Blob b) { seen = text(b); }, &loaded), Status::kOk);
        EXPECT_EQ(loaded, present);
        if (present) EXPECT_EQ(seen, it->second);
        else model[k] = v;
        break;
      }
      case 4: {
        std::string seen;
        EXPECT_EQ(m->loadAndDelete(*rec, kb, [&](Blob b) { seen = text(b); }), present);
        if (present) {
          EXPECT_EQ(seen, it->second);
          model.erase(it);
        }
        break;
      }
      case 5: {
        const std::string expected = present && rng.next() % 2 ? it->second : "other";
        bool swapped = false;
        ASSERT_EQ(m->compareAndSwap(*rec, kb, str(expected), vb, &swapped), Status::kOk);
        EXPECT_EQ(swapped, present && it->second == expected);
        if (swapped) it->second = v;
        break;
      }
      case 6: {
        EXPECT_EQ(m->erase(*rec, kb), present);
        if (present) model.erase(it);
        break;
      }
      default: {
        std::string seen = "<absent>";
        EXPECT_EQ(m->load(*rec, kb, [&](Blob b) { seen = text(b); }), present);
        EXPECT_EQ(seen, present ? it->second : "<absent>");
        break;
      }
    }
    ASSERT_EQ(m->size(), model.size());
  }
  // A full iteration agrees with the model.
  ConcurrentMap::Iterator* iter = nullptr;
  ASSERT_EQ(m->iterStart(*rec, &iter), Status::kOk);
  std::unordered_map<std::string, std::string> seen;
  while (m->iterNext(*rec, iter, 5, [&](Blob k, Blob v) { EXPECT_TRUE(seen.emplace(text(k), text(v)).second); }) != 0) {
  }
  m->iterEnd(iter);
  EXPECT_EQ(seen, model);
  gomap::MapStats s = m->stats(*rec);
  EXPECT_GT(s.grows + s.sameSizeGrows, 0u);
  m->release();
  EXPECT_TRUE(cmap_test::drainRetired(*rec));
}

// An iterator held across calls while the map doubles several times (and while one
// grow is half done when it starts): every original entry exactly once, none of the
// entries deleted before being reached, and the latest values.
void iterateAcrossGrows(bool startMidGrow) {
  cmap_test::Registered rec;
  ConcurrentMap* m = cmap_test::newMap(21);
  int next = 0;
  auto add = [&](const std::string& prefix) {
    const std::string k = prefix + std::to_string(next++);
    EXPECT_EQ(m->store(*rec, str(k), str("v" + k), nullptr), Status::kOk);
    return k;
  };
  std::vector<std::string> original;
  for (int i = 0; i < 200; ++i) original.push_back(add("o"));
  if (startMidGrow) {
    while (!m->stats(*rec).growing) original.push_back(add("o"));
  }
  const gomap::MapStats atStart = m->stats(*rec);
  ASSERT_EQ(atStart.growing, startMidGrow);
  ConcurrentMap::Iterator* it = nullptr;
  ASSERT_EQ(m->iterStart(*rec, &it), Status::kOk);
  std::map<std::string, std::string> produced;
  auto step = [&](size_t max) {
    return m->iterNext(*rec, it, max, [&](Blob k, Blob v) { EXPECT_TRUE(produced.emplace(text(k), text(v)).second); });
  };
  step(3);
  // Delete every original entry not produced yet with an odd index; overwrite the rest.
  std::set<std::string> deleted;
  for (size_t i = 0; i < original.size(); ++i) {
    if (produced.count(original[i]) != 0) continue;
    if (i % 2 == 1) {
      ASSERT_TRUE(m->erase(*rec, str(original[i])));
      deleted.insert(original[i]);
    } else {
      ASSERT_EQ(m->store(*rec, str(original[i]), str("new"), nullptr), Status::kOk);
    }
  }
  // Grow the table three doublings while the iterator is held.
  while (m->stats(*rec).grows < atStart.grows + 3) add("n");
  while (step(5) != 0) {
  }
  m->iterEnd(it);
  for (size_t i = 0; i < original.size(); ++i) {
    const std::string& k = original[i];
    if (deleted.count(k) != 0) {
      EXPECT_EQ(produced.count(k), 0u) << k << " was deleted before it was reached";
    } else {
      ASSERT_EQ(produced.count(k), 1u) << k;
      const std::string& v = produced[k];
      EXPECT_TRUE(v == "v" + k || v == "new") << k << " = " << v;
    }
  }
  EXPECT_FALSE(deleted.empty());
  m->release();
  EXPECT_TRUE(cmap_test::drainRetired(*rec));
}

TEST(ConcurrentMapIteration, HeldAcrossGrowsKeepsGosGuarantees) { iterateAcrossGrows(false); }
TEST(ConcurrentMapIteration, StartedMidGrowKeepsGosGuarantees) { iterateAcrossGrows(true); }

TEST(ConcurrentMapIteration, EmptyMapAndClearMidIteration) {
  cmap_test::Registered rec;
  ConcurrentMap* m = cmap_test::newMap(22);
  ConcurrentMap::Iterator* it = nullptr;
  ASSERT_EQ(m->iterStart(*rec, &it), Status::kOk);
  EXPECT_EQ(m->iterNext(*rec, it, 10, [](Blob, Blob) { ADD_FAILURE(); }), 0u);
  m->iterEnd(it);
  for (int i = 0; i < 300; ++i) ASSERT_EQ(m->store(*rec, str("k" + std::to_string(i)), str("v"), nullptr), Status::kOk);
  ASSERT_EQ(m->iterStart(*rec, &it), Status::kOk);
  size_t first = m->iterNext(*rec, it, 10, [](Blob, Blob) {});
  EXPECT_GE(first, 10u);
  m->clear(*rec);
  EXPECT_EQ(m->iterNext(*rec, it, 1000, [](Blob, Blob) { ADD_FAILURE() << "produced after clear"; }), 0u);
  m->iterEnd(it);
  m->release();
  EXPECT_TRUE(cmap_test::drainRetired(*rec));
}

uint64_t fewBuckets(uint64_t h) { return h & 0xff00000000000003ull; }

TEST(ConcurrentMapModel, AgreesWithUnorderedMap) { runModel(nullptr, 11, 20000, 3000); }
TEST(ConcurrentMapModel, AgreesWithUnorderedMapUnderCollisions) { runModel(fewBuckets, 12, 6000, 400); }

TEST(ConcurrentMapMemory, BytesCountEntriesAndReturnToTheEmptyTable) {
  cmap_test::Registered rec;
  ConcurrentMap* m = cmap_test::newMap(2);
  const uint64_t empty = m->stats(*rec).bytes;
  EXPECT_GT(empty, 0u);
  std::string big(1000, 'x');
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(m->store(*rec, str("k" + std::to_string(i)), str(big), nullptr), Status::kOk);
  gomap::MapStats full = m->stats(*rec);
  EXPECT_GT(full.bytes, 2000u * 1000u);
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(m->erase(*rec, str("k" + std::to_string(i))));
  // Keep going until the last grow is finished, then only table and chains remain.
  for (int i = 0; m->stats(*rec).growing; ++i) {
    ASSERT_EQ(m->store(*rec, str("g" + std::to_string(i)), str("1"), nullptr), Status::kOk);
    ASSERT_TRUE(m->erase(*rec, str("g" + std::to_string(i))));
  }
  gomap::MapStats after = m->stats(*rec);
  EXPECT_EQ(after.count, 0u);
  EXPECT_EQ(after.bytes, gomap::cmap_detail::kTableHeader + (after.buckets + after.overflowBuckets) *
                                                               sizeof(gomap::cmap_detail::Bucket));
  m->release();
  EXPECT_TRUE(cmap_test::drainRetired(*rec));
}

TEST(ConcurrentMapMemory, RetiredEntriesOfASteadyWriterStayBounded) {
  cmap_test::Registered rec;
  ConcurrentMap* m = cmap_test::newMap(3);
  for (int i = 0; i < 20000; ++i) {
    ASSERT_EQ(m->store(*rec, str("k" + std::to_string(i % 50)), str(std::to_string(i)), nullptr), Status::kOk);
    ASSERT_LT(gomap::ebr::pendingObjects(), 4 * gomap::ebr::kForcedCollectInterval) << "after " << i << " stores";
  }
  m->release();
  EXPECT_TRUE(cmap_test::drainRetired(*rec));
}

TEST(ConcurrentMapMemory, AllocationFailureLeavesTheMapUnchanged) {
  cmap_test::Registered rec;
  // Colliding hashes: inserts and evacuations need overflow buckets, which may fail too.
  ConcurrentMap* m = cmap_test::newMap(4, fewBuckets);
  std::unordered_map<std::string, std::string> model;
  int failures = 0, laterFailures = 0;
  for (int i = 0; i < 1200; ++i) {
    const std::string k = "key" + std::to_string(i % 400);
    const std::string v = std::string(20, static_cast<char>('a' + i % 26));
    // Fail the 1st, 2nd, 3rd or 4th allocation of this store: the entry, a new table,
    // an evacuation's or an insert's overflow bucket, whichever it needs.
    const uint64_t n = 1 + static_cast<uint64_t>(i) % 4;
    gomap::failNthAllocation(n);
    bool inserted = false;
    Status s = m->store(*rec, str(k), str(v), &inserted);
    gomap::failNthAllocation(0);
    if (s != Status::kOk) {
      ASSERT_EQ(s, Status::kNoMemory);
      ++failures;
      if (n > 1) ++laterFailures;
      ASSERT_EQ(m->size(), model.size());
      std::string seen = "<absent>";
      m->load(*rec, str(k), [&](Blob b) { seen = text(b); });
      auto it = model.find(k);
      ASSERT_EQ(seen, it == model.end() ? "<absent>" : it->second);
      ASSERT_EQ(m->store(*rec, str(k), str(v), &inserted), Status::kOk);
    }
    model[k] = v;
  }
  EXPECT_GE(failures, 300);
  EXPECT_GT(laterFailures, 0);
  for (auto& kv : model) {
    std::string seen;
    ASSERT_TRUE(m->load(*rec, str(kv.first), [&](Blob b) { seen = text(b); }));
    EXPECT_EQ(seen, kv.second);
  }
  m->release();
  EXPECT_TRUE(cmap_test::drainRetired(*rec));
}

// ---- storeMany: in order, and all or nothing ------------------------------------------------

using Contents = std::map<std::string, std::string>;

// The map's contents as iteration sees them (each key once), checked against load().
Contents contentsOf(ConcurrentMap* m, gomap::ebr::ThreadRecord& rec) {
  Contents out;
  ConcurrentMap::Iterator* it = nullptr;
  EXPECT_EQ(m->iterStart(rec, &it), Status::kOk);
  while (m->iterNext(rec, it, 64, [&](Blob k, Blob v) { EXPECT_TRUE(out.emplace(text(k), text(v)).second); }) != 0) {
  }
  m->iterEnd(it);
  EXPECT_EQ(out.size(), m->size());
  for (auto& kv : out) {
    std::string seen = "<absent>";
    m->load(rec, str(kv.first), [&](Blob v) { seen = text(v); });
    EXPECT_EQ(seen, kv.second);
  }
  return out;
}

// stats().bytes is exactly table + overflow buckets + entries (when no grow is running).
void expectBytesAccountFor(ConcurrentMap* m, gomap::ebr::ThreadRecord& rec, const Contents& c) {
  gomap::MapStats st = m->stats(rec);
  if (st.growing) return;
  uint64_t expected = gomap::zeroedFootprint(gomap::cmap_detail::kTableHeader +
                                             st.buckets * sizeof(gomap::cmap_detail::Bucket)) +
                      st.overflowBuckets * sizeof(gomap::cmap_detail::Bucket);
  for (auto& kv : c) expected += gomap::cmap_detail::kEntryHeader + kv.first.size() + kv.second.size();
  EXPECT_EQ(st.bytes, expected);
}

struct Batch {
  std::vector<std::string> keys, values;
  Status run(ConcurrentMap* m, gomap::ebr::ThreadRecord& rec, uint64_t* inserted) const {
    std::vector<Blob> k, v;
    for (auto& s : keys) k.push_back(str(s));
    for (auto& s : values) v.push_back(str(s));
    return m->storeMany(rec, k.data(), v.data(), k.size(), inserted);
  }
};

TEST_F(ConcurrentMapBasics, StoreManyStoresInOrderAndCountsNewKeys) {
  ASSERT_EQ(map_->store(*rec_, str("old"), str("0"), nullptr), Status::kOk);
  Batch b{{"a", "old", "b", "a", "c"}, {"1", "2", "3", "4", "5"}};
  uint64_t inserted = 99;
  ASSERT_EQ(b.run(map_, *rec_, &inserted), Status::kOk);
  EXPECT_EQ(inserted, 3u);  // a, b, c; "old" and the second "a" replace
  Contents c = contentsOf(map_, *rec_);
  EXPECT_EQ(c, (Contents{{"a", "4"}, {"b", "3"}, {"c", "5"}, {"old", "2"}}));
  expectBytesAccountFor(map_, *rec_, c);
  EXPECT_EQ(Batch{}.run(map_, *rec_, &inserted), Status::kOk);
  EXPECT_EQ(inserted, 0u);
}

TEST_F(ConcurrentMapBasics, StoreManyRefusesATooLargePairBeforeStoringAny) {
  uint8_t byte = 0;
  Blob keys[3] = {str("x"), str("y"), str("z")};
  Blob values[3] = {str("1"), Blob{gomap::kTagBytes, &byte, gomap::kMaxBlobLength + 1}, str("3")};
  uint64_t inserted = 7;
  EXPECT_EQ(map_->storeMany(*rec_, keys, values, 3, &inserted), Status::kTooLarge);
  EXPECT_EQ(inserted, 0u);
  EXPECT_EQ(map_->size(), 0u);
}

// Before each batch, the map holds `pre` entries (enough, with some seeds, to leave a grow
// running). The batch mixes replacements, duplicates and new keys, enough to need
// several doublings, and (with fewBuckets) overflow buckets for inserts and evacuations.
void storeManyFailingEveryAllocation(uint64_t (*hashOverride)(uint64_t), int pre, int batchSize,
                                     bool midGrow = false) {
  cmap_test::Registered rec;
  Batch batch;
  for (int i = 0; i < batchSize; ++i) {
    const int k = i % 7 == 0 ? i / 2 : pre + i;  // some existing keys, some twice
    batch.keys.push_back("k" + std::to_string(k));
    batch.values.push_back("b" + std::to_string(i) + std::string(static_cast<size_t>(i % 30), 'v'));
  }
  auto prepare = [&](bool* growing) {
    ConcurrentMap* m = cmap_test::newMap(31, hashOverride);
    for (int i = 0; i < pre || (midGrow && !m->stats(*rec).growing); ++i) {
      EXPECT_EQ(m->store(*rec, str("k" + std::to_string(i)), str("p" + std::to_string(i)), nullptr), Status::kOk);
    }
    *growing = m->stats(*rec).growing;
    EXPECT_TRUE(*growing || !midGrow);
    return m;
  };
  // The expected result, and the allocations a successful batch makes.
  bool growing = false;
  ConcurrentMap* m = prepare(&growing);
  const Contents before = contentsOf(m, *rec);
  const uint64_t start = gomap::allocationCount();
  uint64_t inserted = 0;
  ASSERT_EQ(batch.run(m, *rec, &inserted), Status::kOk);
  const uint64_t allocations = gomap::allocationCount() - start;
  const Contents after = contentsOf(m, *rec);
  expectBytesAccountFor(m, *rec, after);
  EXPECT_EQ(inserted, after.size() - before.size());
  m->release();
  ASSERT_GT(allocations, static_cast<uint64_t>(batchSize));

  int failures = 0;
  for (uint64_t n = 1; n <= allocations + 1; ++n) {
    bool g = false;
    m = prepare(&g);
    ASSERT_EQ(g, growing);
    gomap::failNthAllocation(n);
    Status s = batch.run(m, *rec, &inserted);
    gomap::failNthAllocation(0);
    const Contents seen = contentsOf(m, *rec);
    if (s == Status::kOk) {
      EXPECT_EQ(seen, after) << "failing allocation " << n;
    } else {
      ++failures;
      ASSERT_EQ(s, Status::kNoMemory);
      EXPECT_EQ(seen, before) << "failing allocation " << n << " left part of the batch";
      ASSERT_EQ(batch.run(m, *rec, &inserted), Status::kOk);  // and the map still works
      EXPECT_EQ(contentsOf(m, *rec), after);
    }
    expectBytesAccountFor(m, *rec, after);
    m->release();
    if (::testing::Test::HasFailure()) break;
  }
  // Each of the batch's allocations was made to fail once (n = allocations + 1 fails
  // nothing); at least one per entry must have failed the batch.
  EXPECT_GE(failures, static_cast<int>(batchSize));
  EXPECT_TRUE(cmap_test::drainRetired(*rec));
}

TEST(ConcurrentMapStoreMany, AllOrNothingIntoAnEmptyMap) { storeManyFailingEveryAllocation(nullptr, 0, 120); }
TEST(ConcurrentMapStoreMany, AllOrNothingDuringAGrow) { storeManyFailingEveryAllocation(nullptr, 100, 40, true); }
TEST(ConcurrentMapStoreMany, AllOrNothingUnderCollisions) { storeManyFailingEveryAllocation(fewBuckets, 60, 150); }
TEST(ConcurrentMapStoreMany, AllOrNothingSmallBatchIntoABigMap) { storeManyFailingEveryAllocation(fewBuckets, 300, 9); }
TEST(ConcurrentMapStoreMany, AllOrNothingSmallBatchMidGrow) { storeManyFailingEveryAllocation(nullptr, 700, 9, true); }

TEST(ConcurrentMapLimits, TooLargeKeysAndValuesAreRefused) {
  cmap_test::Registered rec;
  ConcurrentMap* m = cmap_test::newMap(4);
  uint8_t byte = 0;
  Blob huge{gomap::kTagBytes, &byte, gomap::kMaxBlobLength + 1};  // never read: refused first
  bool flag = false;
  EXPECT_EQ(m->store(*rec, huge, str("v"), &flag), Status::kTooLarge);
  EXPECT_EQ(m->store(*rec, str("k"), huge, &flag), Status::kTooLarge);
  EXPECT_EQ(m->size(), 0u);
  ConcurrentMap* none = nullptr;
  gomap::MapOptions options;
  options.hint = ~uint64_t{0};
  EXPECT_EQ(ConcurrentMap::create(options, &none), Status::kTooLarge);
  m->release();
}

// Absurd sizes are refused by the core (kTooLarge), not by the OS failing a huge mapping
// (kNoMemory), which an overcommitting kernel (vm.overcommit_memory=1) would not do.
TEST(ConcurrentMapLimits, TablesBiggerThanMemoryAreRefused) {
  const size_t limit = gomap::maxTableBytes();
  EXPECT_GE(limit, size_t{64} << 20);  // physical memory: at least 64 MiB anywhere we run
  cmap_test::Registered rec;
  for (uint64_t n : {uint64_t{1} << 40, uint64_t{1} << 36, uint64_t{limit / 8}}) {
    ConcurrentMap* none = nullptr;
    gomap::MapOptions options;
    options.hint = n;  // n entries need > n / 6.5 buckets of 80 bytes: more than `limit`
    EXPECT_EQ(ConcurrentMap::create(options, &none), Status::kTooLarge) << n;
    EXPECT_EQ(none, nullptr);
    ConcurrentMap* m = cmap_test::newMap(0);
    EXPECT_EQ(m->reserve(*rec, n), Status::kTooLarge) << n;
    bool inserted = false;  // still usable, still small
    EXPECT_EQ(m->store(*rec, str("k"), str("v"), &inserted), Status::kOk);
    EXPECT_TRUE(inserted);
    EXPECT_EQ(m->size(), 1u);
    EXPECT_LT(m->stats(*rec).bytes, uint64_t{1} << 20);
    m->release();
  }
  // Sizes that fit are honoured.
  ConcurrentMap* m = cmap_test::newMap(0);
  EXPECT_EQ(m->reserve(*rec, uint64_t{1} << 16), Status::kOk);
  EXPECT_GE(m->stats(*rec).buckets, (uint64_t{1} << 16) / 8);
  m->release();
  EXPECT_TRUE(cmap_test::drainRetired(*rec));
}

}  // namespace

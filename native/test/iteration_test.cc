// Iteration guarantees (Go's): an entry present for the whole iteration is produced
// exactly once; an entry deleted before the iterator reaches it is never produced; a
// produced entry carries its current value. These must hold while the table grows
// (doubling and same-size), shrinks, is reserved or cleared under the iterator, for
// iterators started in the middle of a grow, and with several iterators alive at once.
//
// Keys are long blobs (boxed): an iterator reading a key from an evacuated slot after the
// key's box was freed is a heap use-after-free that AddressSanitizer reports.
#include <algorithm>
#include <memory>

#include "test_util.h"

namespace gomap_test {
namespace {

uint64_t g_lastHash = 0;
// Forced collisions: only 3 low bits of the bucket index vary (see growth_test.cc).
uint64_t eightChains(uint64_t h) { return g_lastHash = (h & 0xff00000000000000ull) | (h & 7); }

template <class KT, class VT>
class IterationHarness {
 public:
  using Map = MapOf<KT, VT>;
  using Key = typename KT::Model;
  using Val = typename VT::Model;
  using Iter = typename Map::Iterator;

  explicit IterationHarness(uint64_t seed, uint64_t (*hashOverride)(uint64_t) = nullptr)
      : map_(std::make_unique<Map>(options(seed, hashOverride))), rng_(seed) {}

  Map& map() { return *map_; }
  Rng& rng() { return rng_; }
  size_t size() const { return model_.size(); }

  // ---- mutations (keys are never re-inserted once deleted: a fresh number each time) ----
  void insertFresh() {
    Key k = KT::make(nextKey_++);
    Val v = VT::random(rng_);
    bool inserted = false;
    ASSERT_EQ(map_->set(KT::view(k), VT::view(v), &inserted), Status::kOk);
    ASSERT_TRUE(inserted);
    pos_[k] = keys_.size();
    keys_.push_back(k);
    model_.emplace(k, v);
    lifeOf_[k] = lives_.size();
    lives_.push_back({k, ++clock_, kForever});
  }
  // Inserts a fresh key that lands in chain c (0..7) under eightChains: the key's chain is
  // learned by looking it up first (one lookup hashes the key once).
  void insertFreshIn(uint64_t c) {
    for (;;) {
      Key k = KT::make(nextKey_);
      g_lastHash = ~uint64_t{0};
      (void)map_->contains(KT::view(k));
      ASSERT_NE(g_lastHash, ~uint64_t{0});
      if ((g_lastHash & 7) == c) break;
      ++nextKey_;
    }
    insertFresh();
  }
  // Erases keys at random until at most `keep` of them are in chain c.
  void thinChain(uint64_t c, size_t keep) {
    std::vector<Key> inChain;
    for (const Key& k : keys_) {
      g_lastHash = ~uint64_t{0};
      (void)map_->contains(KT::view(k));
      if ((g_lastHash & 7) == c) inChain.push_back(k);
    }
    for (size_t i = 0; i + keep < inChain.size(); ++i) {
      std::swap(inChain[i], inChain[i + rng_.below(inChain.size() - i)]);
      ASSERT_TRUE(map_->erase(KT::view(inChain[i])));
      forget(inChain[i]);
    }
  }
  void eraseRandom() {
    if (keys_.empty()) return;
    Key k = keys_[rng_.below(keys_.size())];
    Val removed{};
    int calls = 0;
    ASSERT_TRUE(map_->erase(KT::view(k), [&](const typename VT::Policy::View& v) {
      ++calls;
      removed = VT::fromView(v);
    }));
    ASSERT_EQ(calls, 1);
    ASSERT_TRUE(removed == model_.at(k));
    forget(k);
  }
  void overwriteRandom() {
    if (keys_.empty()) return;
    const Key& k = keys_[rng_.below(keys_.size())];
    Val v = VT::random(rng_);
    bool inserted = true;
    ASSERT_EQ(map_->set(KT::view(k), VT::view(v), &inserted), Status::kOk);
    ASSERT_FALSE(inserted);
    model_[k] = v;
  }
  void clear() {
    map_->clear();
    ++clock_;
    for (const Key& k : keys_) lives_[lifeOf_.at(k)].died = clock_;
    model_.clear();
    keys_.clear();
    pos_.clear();
  }
  void shrink() { ASSERT_EQ(map_->shrink(), Status::kOk); }
  void reserve(uint64_t n) { ASSERT_EQ(map_->reserve(n), Status::kOk); }
  void destroyMap() { map_.reset(); }

  // ---- iterators ---------------------------------------------------------------------------
  // An iterator under test. Which keys it must produce follows from the keys' lifetimes
  // (keys are never re-inserted): those born before it started and still alive at its end.
  struct Active {
    std::unique_ptr<Iter> it;
    uint64_t startedAt = 0;
    std::unordered_set<Key> produced;
    bool startedGrowing = false;
    bool finished = false;
  };

  // Starts an iterator; returns its index.
  size_t start() {
    Active a;
    a.startedGrowing = map_->stats().growing;
    a.startedAt = ++clock_;
    a.it = std::make_unique<Iter>(*map_);
    active_.push_back(std::move(a));
    startedGrowing_ += active_.back().startedGrowing;
    return active_.size() - 1;
  }
  size_t activeCount() const { return active_.size(); }
  Active& active(size_t i) { return active_[i]; }
  uint64_t startedGrowing() const { return startedGrowing_; }
  uint64_t produced() const { return produced_; }

  // One next() on iterator i with all per-entry checks. Returns false at its end, after
  // checking that every key present throughout was produced.
  bool step(size_t i) {
    Active& a = active_[i];
    if (a.finished) return false;
    typename KT::Policy::View kv{};
    typename VT::Policy::View vv{};
    if (!a.it->next(&kv, &vv)) {
      a.finished = true;
      checkComplete(a);
      return false;
    }
    Key k = KT::fromView(kv);
    Val v = VT::fromView(vv);
    ++produced_;
    EXPECT_TRUE(a.produced.insert(k).second) << "key produced twice: " << KT::describe(k);
    auto found = model_.find(k);
    EXPECT_TRUE(found != model_.end()) << "produced a key that is not in the map (deleted before reached?): "
                                       << KT::describe(k);
    if (found != model_.end()) {
      EXPECT_TRUE(found->second == v) << "stale value for " << KT::describe(k);
    }
    return true;
  }
  // Runs iterator i to its end with no mutation in between.
  void drain(size_t i) {
    while (step(i)) {
      if (::testing::Test::HasFailure()) return;
    }
  }
  void checkComplete(const Active& a) {
    size_t missing = 0;
    std::string example;
    for (const Life& l : lives_) {
      if (l.born < a.startedAt && l.died == kForever && a.produced.count(l.key) == 0) {
        if (missing++ == 0) example = KT::describe(l.key);
      }
    }
    EXPECT_EQ(missing, 0u) << missing << " keys present throughout were never produced (e.g. " << example
                           << "); iterator started " << (a.startedGrowing ? "during" : "outside") << " a grow";
  }

 private:
  static MapOptions options(uint64_t seed, uint64_t (*hashOverride)(uint64_t)) {
    MapOptions o;
    o.fixedSeed = true;
    o.seed = seed;
    o.hashOverride = hashOverride;
    return o;
  }
  void forget(const Key& k) {
    lives_[lifeOf_.at(k)].died = ++clock_;
    size_t p = pos_.at(k);
    pos_[keys_.back()] = p;
    std::swap(keys_[p], keys_.back());
    keys_.pop_back();
    pos_.erase(k);
    model_.erase(k);
  }

  static constexpr uint64_t kForever = ~uint64_t{0};
  struct Life {
    Key key;
    uint64_t born, died;
  };
  std::vector<Life> lives_;
  std::unordered_map<Key, size_t> lifeOf_;
  uint64_t clock_ = 0;

  std::unique_ptr<Map> map_;
  Rng rng_;
  ModelOf<KT, VT> model_;
  std::vector<Key> keys_;
  std::unordered_map<Key, size_t> pos_;
  uint64_t nextKey_ = 0;
  std::vector<Active> active_;
  uint64_t startedGrowing_ = 0;
  uint64_t produced_ = 0;

 public:
  // Destroy iterators before the map (members are destroyed in reverse order; the map
  // would detach them anyway, but this is the ordinary order).
  ~IterationHarness() { active_.clear(); }
};

using LongKeys = IterationHarness<LongBlobKeyTraits, BlobValTraits>;

// ---- one iterator, the table doubles several times under it -------------------------------

TEST(GoMapIteration, ManyInsertsForceSeveralDoublings) {
  for (uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    LongKeys h(seed);
    for (int i = 0; i < 200; ++i) ASSERT_NO_FATAL_FAILURE(h.insertFresh());
    const uint64_t grows0 = h.map().stats().grows;
    size_t it = h.start();
    while (h.step(it)) {
      for (int j = 0; j < 6; ++j) ASSERT_NO_FATAL_FAILURE(h.insertFresh());
      if (h.rng().chance(30)) {
        ASSERT_NO_FATAL_FAILURE(h.overwriteRandom());
      }
      ASSERT_FALSE(::testing::Test::HasFailure());
    }
    ASSERT_FALSE(::testing::Test::HasFailure());
    EXPECT_GE(h.map().stats().grows - grows0, 3u) << "the table did not double several times";
  }
}

TEST(GoMapIteration, DeletesAndInsertsWhileGrowing) {
  for (uint64_t seed : {4, 5, 6}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    LongKeys h(seed);
    for (int i = 0; i < 500; ++i) ASSERT_NO_FATAL_FAILURE(h.insertFresh());
    const uint64_t grows0 = h.map().stats().grows;
    size_t it = h.start();
    while (h.step(it)) {
      ASSERT_NO_FATAL_FAILURE(h.eraseRandom());
      if (h.rng().chance(50)) {
        ASSERT_NO_FATAL_FAILURE(h.eraseRandom());
      }
      for (int j = 0; j < 4; ++j) ASSERT_NO_FATAL_FAILURE(h.insertFresh());
      ASSERT_FALSE(::testing::Test::HasFailure());
    }
    ASSERT_FALSE(::testing::Test::HasFailure());
    EXPECT_GE(h.map().stats().grows - grows0, 2u);
  }
}

// Deletes only, of keys not yet produced and already produced.
TEST(GoMapIteration, DeletedBeforeReachedIsNeverProduced) {
  LongKeys h(7);
  for (int i = 0; i < 3000; ++i) ASSERT_NO_FATAL_FAILURE(h.insertFresh());
  size_t it = h.start();
  // Half the keys are deleted before the first step: none of them may appear.
  for (int i = 0; i < 1500; ++i) ASSERT_NO_FATAL_FAILURE(h.eraseRandom());
  while (h.step(it)) {
    if (h.rng().chance(40)) {
      ASSERT_NO_FATAL_FAILURE(h.eraseRandom());
    }
    ASSERT_FALSE(::testing::Test::HasFailure());
  }
  EXPECT_LT(h.active(it).produced.size(), 1500u);
}

// ---- iterators started during a grow, several alive at once ---------------------------------

TEST(GoMapIteration, ManyIteratorsSomeStartedMidGrow) {
  for (uint64_t seed : {8, 9}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    LongKeys h(seed);
    for (int i = 0; i < 100; ++i) ASSERT_NO_FATAL_FAILURE(h.insertFresh());
    for (int round = 0; round < 2500; ++round) {
      // Mostly inserts (the table keeps growing), some deletes and overwrites.
      ASSERT_NO_FATAL_FAILURE(h.insertFresh());
      if (h.rng().chance(40)) {
        ASSERT_NO_FATAL_FAILURE(h.insertFresh());
      }
      if (h.rng().chance(30)) {
        ASSERT_NO_FATAL_FAILURE(h.eraseRandom());
      }
      if (h.rng().chance(20)) {
        ASSERT_NO_FATAL_FAILURE(h.overwriteRandom());
      }
      // Start iterators now and then, preferably while a grow is under way.
      bool growing = h.map().stats().growing;
      if (h.activeCount() < 48 && h.rng().chance(growing ? 10 : 1)) h.start();
      // Advance a few live iterators by a few steps each.
      for (size_t i = 0; i < h.activeCount(); ++i) {
        if (h.rng().chance(50)) {
          for (int s = 0; s < 3; ++s) h.step(i);
        }
      }
      ASSERT_FALSE(::testing::Test::HasFailure());
    }
    // Finish every iterator, still mutating between steps.
    for (size_t i = 0; i < h.activeCount(); ++i) {
      while (h.step(i)) {
        if (h.rng().chance(50)) {
          ASSERT_NO_FATAL_FAILURE(h.insertFresh());
        }
        if (h.rng().chance(25)) {
          ASSERT_NO_FATAL_FAILURE(h.eraseRandom());
        }
        ASSERT_FALSE(::testing::Test::HasFailure());
      }
    }
    EXPECT_GE(h.startedGrowing(), 5u) << "too few iterators started during a grow";
    EXPECT_GE(h.activeCount(), 20u);
  }
}

// An iterator started during a grow and finished without any mutation: it must read the
// old buckets that are not evacuated yet (and only their keys of its new bucket).
TEST(GoMapIteration, StartedMidGrowWithoutMutation) {
  for (uint64_t seed : {10, 11, 12, 13}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    LongKeys h(seed);
    while (!(h.map().stats().growing && h.map().stats().B >= 7)) ASSERT_NO_FATAL_FAILURE(h.insertFresh());
    // A few more writes so that some old buckets are evacuated and some are not.
    for (int i = 0; i < 10; ++i) ASSERT_NO_FATAL_FAILURE(h.insertFresh());
    MapStats s = h.map().stats();
    ASSERT_TRUE(s.growing);
    ASSERT_GT(s.evacuated, 0u);
    ASSERT_LT(s.evacuated, s.oldBuckets);
    size_t it = h.start();
    h.drain(it);
    ASSERT_FALSE(::testing::Test::HasFailure());
    EXPECT_EQ(h.active(it).produced.size(), h.size());
  }
}

// ---- same-size grows during iteration -------------------------------------------------------

TEST(GoMapIteration, SameSizeGrowsDuringIteration) {
  for (uint64_t seed : {14, 15}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    LongKeys h(seed, eightChains);
    ASSERT_EQ(h.map().init(1600), Status::kOk);  // B = 8: the load stays low, chains long
    // Steps every live iterator once, now and then starting another.
    auto stepAll = [&]() {
      if (h.activeCount() < 40 && h.rng().chance(h.map().stats().growing ? 10 : 1)) h.start();
      for (size_t i = 0; i < h.activeCount(); ++i) h.step(i);
    };
    for (int i = 0; i < 1000; ++i) {
      ASSERT_NO_FATAL_FAILURE(h.insertFreshIn(0));
      stepAll();
    }
    // Each round: thin the last long chain out (its overflow buckets stay, with holes),
    // then lengthen another until the overflow count starts a same-size grow, and keep
    // going until that grow is over; iterators run all along.
    for (uint64_t round = 1; round <= 4; ++round) {
      ASSERT_NO_FATAL_FAILURE(h.thinChain(round - 1, 10));
      const uint64_t same0 = h.map().stats().sameSizeGrows;
      int inserts = 0;
      while (h.map().stats().sameSizeGrows == same0) {
        ASSERT_NO_FATAL_FAILURE(h.insertFreshIn(round));
        if (h.rng().chance(20)) {
          ASSERT_NO_FATAL_FAILURE(h.eraseRandom());
        }
        stepAll();
        ASSERT_LT(++inserts, 1600) << "no same-size grow in round " << round;
        ASSERT_FALSE(::testing::Test::HasFailure());
      }
      // One iterator starts right at the beginning of the same-size grow.
      ASSERT_TRUE(h.map().stats().growing);
      h.start();
      while (h.map().stats().growing) {
        ASSERT_NO_FATAL_FAILURE(h.insertFreshIn(round));
        stepAll();
        ASSERT_FALSE(::testing::Test::HasFailure());
      }
    }
    for (size_t i = 0; i < h.activeCount(); ++i) h.drain(i);
    ASSERT_FALSE(::testing::Test::HasFailure());
    EXPECT_EQ(h.map().stats().grows, 0u);
    EXPECT_EQ(h.map().stats().sameSizeGrows, 4u);
    EXPECT_GE(h.startedGrowing(), 4u) << "too few iterators started during a same-size grow";
  }
}

// ---- shrink(), reserve() and clear() under live iterators ------------------------------------

enum class Rebuild { kShrink, kReserve, kClear };

void rebuildDuringIteration(Rebuild what, bool whileGrowing, uint64_t seed) {
  LongKeys h(seed);
  // Reach a state with iterators started before and (if whileGrowing) during a grow.
  for (int i = 0; i < 400; ++i) ASSERT_NO_FATAL_FAILURE(h.insertFresh());
  size_t before = h.start();
  for (int s = 0; s < 50; ++s) h.step(before);
  if (whileGrowing) {
    // A grow from 256 buckets: it takes more than 100 writes to finish.
    while (!(h.map().stats().growing && h.map().stats().B >= 9)) ASSERT_NO_FATAL_FAILURE(h.insertFresh());
    for (int i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(h.insertFresh());
    ASSERT_TRUE(h.map().stats().growing);
  }
  size_t during = h.start();
  for (int s = 0; s < 20; ++s) h.step(during);
  // Deletes, so that shrink has something to do.
  for (int i = 0; i < (whileGrowing ? 50 : 250); ++i) ASSERT_NO_FATAL_FAILURE(h.eraseRandom());
  const bool growingNow = h.map().stats().growing;
  const MapStats s0 = h.map().stats();
  switch (what) {
    case Rebuild::kShrink:
      ASSERT_NO_FATAL_FAILURE(h.shrink());
      EXPECT_LT(h.map().stats().B, s0.B);
      break;
    case Rebuild::kReserve:
      ASSERT_NO_FATAL_FAILURE(h.reserve(20000));
      EXPECT_GT(h.map().stats().B, s0.B);
      break;
    case Rebuild::kClear:
      ASSERT_NO_FATAL_FAILURE(h.clear());
      break;
  }
  EXPECT_FALSE(h.map().stats().growing);
  if (whileGrowing) {
    EXPECT_TRUE(growingNow) << "the rebuild was meant to interrupt a grow";
  }
  // A third iterator after the rebuild; then all three run to the end with more writes.
  size_t after = h.start();
  for (size_t i : {before, during, after}) {
    while (h.step(i)) {
      if (h.rng().chance(30)) {
        ASSERT_NO_FATAL_FAILURE(h.insertFresh());
      }
      if (h.rng().chance(10)) {
        ASSERT_NO_FATAL_FAILURE(h.eraseRandom());
      }
      ASSERT_FALSE(::testing::Test::HasFailure());
    }
  }
}

TEST(GoMapIteration, ShrinkDuringIteration) { rebuildDuringIteration(Rebuild::kShrink, false, 20); }
TEST(GoMapIteration, ReserveDuringIteration) { rebuildDuringIteration(Rebuild::kReserve, false, 21); }
TEST(GoMapIteration, ClearDuringIteration) { rebuildDuringIteration(Rebuild::kClear, false, 22); }
TEST(GoMapIteration, ShrinkDuringIterationWhileGrowing) { rebuildDuringIteration(Rebuild::kShrink, true, 23); }
TEST(GoMapIteration, ReserveDuringIterationWhileGrowing) { rebuildDuringIteration(Rebuild::kReserve, true, 24); }
TEST(GoMapIteration, ClearDuringIterationWhileGrowing) { rebuildDuringIteration(Rebuild::kClear, true, 25); }

// The smallest form of the case above: an iterator started during a grow, then shrink()
// or reserve() (a rebuild that ends the grow at once), and no other mutation. Every entry
// is present throughout, so every entry must be produced exactly once.
template <bool kShrink>
void rebuildUnderIteratorStartedMidGrow() {
  GoMap<Word64Key, Word64Value> m;
  uint64_t n = 0;
  while (!(m.stats().growing && m.stats().B >= 6)) {
    ASSERT_EQ(m.set(n, n), Status::kOk);
    ++n;
  }
  ASSERT_LT(m.stats().evacuated, m.stats().oldBuckets / 2);
  GoMap<Word64Key, Word64Value>::Iterator it(m);
  ASSERT_EQ(kShrink ? m.shrink() : m.reserve(100000), Status::kOk);
  ASSERT_FALSE(m.stats().growing);
  std::unordered_set<uint64_t> seen;
  uint64_t k, v;
  while (it.next(&k, &v)) {
    ASSERT_TRUE(seen.insert(k).second) << "key " << k << " produced twice";
    ASSERT_EQ(k, v);
  }
  EXPECT_EQ(seen.size(), n) << "an iterator started during a grow missed entries after "
                            << (kShrink ? "shrink()" : "reserve()");
}

TEST(GoMapIteration, ShrinkUnderIteratorStartedMidGrowMinimal) { rebuildUnderIteratorStartedMidGrow<true>(); }
TEST(GoMapIteration, ReserveUnderIteratorStartedMidGrowMinimal) { rebuildUnderIteratorStartedMidGrow<false>(); }

// Random whole-table operations mixed into a long run with many iterators.
TEST(GoMapIteration, RandomMutationsWithManyIterators) {
  for (uint64_t seed : {30, 31, 32}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    LongKeys h(seed);
    for (int round = 0; round < 6000; ++round) {
      uint64_t d = h.rng().below(1000);
      if (d < 450) {
        ASSERT_NO_FATAL_FAILURE(h.insertFresh());
      } else if (d < 800) {
        ASSERT_NO_FATAL_FAILURE(h.eraseRandom());
      } else if (d < 980) {
        ASSERT_NO_FATAL_FAILURE(h.overwriteRandom());
      } else if (d < 990) {
        ASSERT_NO_FATAL_FAILURE(h.shrink());
      } else if (d < 998) {
        ASSERT_NO_FATAL_FAILURE(h.reserve(h.size() * 2 + 100));
      } else {
        ASSERT_NO_FATAL_FAILURE(h.clear());
      }
      if (h.activeCount() < 200 && h.rng().chance(h.map().stats().growing ? 25 : 2)) h.start();
      for (size_t i = 0; i < h.activeCount(); ++i) {
        if (h.rng().chance(30)) h.step(i);
      }
      ASSERT_FALSE(::testing::Test::HasFailure());
    }
    for (size_t i = 0; i < h.activeCount(); ++i) h.drain(i);
    EXPECT_GE(h.startedGrowing(), 3u);
  }
}

// ---- lifetimes --------------------------------------------------------------------------

// A map destroyed under live iterators detaches them: next() returns false, and
// destroying the iterator afterwards is safe (ASan checks both).
TEST(GoMapIteration, IteratorOutlivesItsMap) {
  using Map = GoMap<BlobKey, BlobValue>;
  auto m = std::make_unique<Map>();
  for (uint64_t i = 0; i < 2000; ++i) {
    std::string k = longKey(i), v = longKey(i + 7);
    ASSERT_EQ(m->set(blobView(k), blobView(v)), Status::kOk);
  }
  auto unstarted = std::make_unique<Map::Iterator>(*m);
  auto midway = std::make_unique<Map::Iterator>(*m);
  Blob k{}, v{};
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(midway->next(&k, &v));
  // Force a grow so that the iterators hold an old array and deferred keys.
  for (uint64_t i = 2000; i < 6000; ++i) {
    std::string key = longKey(i);
    ASSERT_EQ(m->set(blobView(key), blobView(key)), Status::kOk);
  }
  for (uint64_t i = 0; i < 1000; ++i) {
    std::string key = longKey(i);
    ASSERT_TRUE(m->erase(blobView(key)));
  }
  auto finished = std::make_unique<Map::Iterator>(*m);
  while (finished->next(&k, &v)) {
  }
  m.reset();
  EXPECT_FALSE(unstarted->next(&k, &v));
  EXPECT_FALSE(midway->next(&k, &v));
  EXPECT_FALSE(midway->next(&k, &v));
  EXPECT_FALSE(finished->next(&k, &v));
  midway->stop();  // stop() after detach is a no-op
  unstarted.reset();
  midway.reset();
  finished.reset();
}

// Iterators stopped early, destroyed in any order, restarted: no leaks (LeakSanitizer), no
// use-after-free, and the deferred key boxes are freed once no iterator can read them.
TEST(GoMapIteration, StopEarlyAndDestroyInAnyOrder) {
  LongKeys h(40);
  for (int i = 0; i < 3000; ++i) ASSERT_NO_FATAL_FAILURE(h.insertFresh());
  std::vector<size_t> its;
  for (int i = 0; i < 8; ++i) {
    its.push_back(h.start());
    for (int s = 0; s < 100 * i; ++s) h.step(its.back());
    for (int j = 0; j < 700; ++j) ASSERT_NO_FATAL_FAILURE(h.insertFresh());
    for (int j = 0; j < 300; ++j) ASSERT_NO_FATAL_FAILURE(h.eraseRandom());
  }
  // Stop every other iterator early, in a scrambled order.
  for (size_t i : {5, 1, 7, 3}) h.active(its[i]).it->stop();
  for (int j = 0; j < 2000; ++j) ASSERT_NO_FATAL_FAILURE(h.eraseRandom());
  // The remaining iterators may still read evacuated slots: the deleted keys' boxes wait.
  const uint64_t bytesWithReaders = h.map().stats().bytes;
  for (size_t i : {0, 2, 4, 6}) h.drain(its[i]);
  ASSERT_FALSE(::testing::Test::HasFailure());
  // With every iterator done, deleted keys' boxes are no longer deferred: the bytes fall.
  EXPECT_LT(h.map().stats().bytes, bytesWithReaders);
  typename LongKeys::Iter fresh(h.map());
  Blob k{}, v{};
  size_t n = 0;
  while (fresh.next(&k, &v)) ++n;
  EXPECT_EQ(n, h.size());
}

// Iteration starts at a random bucket and offset: the first key differs between runs.
TEST(GoMapIteration, StartIsRandom) {
  GoMap<Word64Key, Word64Value> m;
  for (uint64_t i = 0; i < 1000; ++i) ASSERT_EQ(m.set(i, i), Status::kOk);
  std::unordered_set<uint64_t> firsts;
  for (int run = 0; run < 50; ++run) {
    GoMap<Word64Key, Word64Value>::Iterator it(m);
    uint64_t k, v;
    ASSERT_TRUE(it.next(&k, &v));
    firsts.insert(k);
  }
  EXPECT_GT(firsts.size(), 10u);
}

// Iterating an empty map, a map emptied by deletes, and a single-entry map.
TEST(GoMapIteration, EmptyAndTinyMaps) {
  GoMap<BlobKey, Word64Value> m;
  std::string k = longKey(1);
  {
    GoMap<BlobKey, Word64Value>::Iterator it(m);
    Blob kv{};
    uint64_t v;
    EXPECT_FALSE(it.next(&kv, &v));
  }
  ASSERT_EQ(m.set(blobView(k), 5), Status::kOk);
  {
    GoMap<BlobKey, Word64Value>::Iterator it(m);
    Blob kv{};
    uint64_t v = 0;
    ASSERT_TRUE(it.next(&kv, &v));
    EXPECT_EQ(blobModel(kv), k);
    EXPECT_EQ(v, 5u);
    EXPECT_FALSE(it.next(&kv, &v));
    EXPECT_FALSE(it.next(&kv, &v));
  }
  ASSERT_TRUE(m.erase(blobView(k)));
  {
    GoMap<BlobKey, Word64Value>::Iterator it(m);
    Blob kv{};
    uint64_t v;
    EXPECT_FALSE(it.next(&kv, &v));
  }
}

}  // namespace
}  // namespace gomap_test

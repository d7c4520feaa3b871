// Allocation failure: with alloc.h's failNthAllocation(N), for every N from 1 to the
// number of allocations a workload makes, each operation either returns kOk and does its
// job, or returns kNoMemory and leaves the map's contents exactly as they were. Deletes
// and clear never fail. Nothing leaks (LeakSanitizer checks at exit), nothing is freed
// twice or read after free (AddressSanitizer), also with iterators alive across failures.
#include <algorithm>
#include <memory>

#include "test_util.h"

namespace gomap_test {
namespace {

enum class OpKind { kInit, kSet, kSetUntilGrowing, kSameSizeChurn, kGetOrInsert, kErase, kClear, kReserve, kShrink,
                    kStartIterator, kStepIterator, kStopIterator };

struct Op {
  OpKind kind;
  uint64_t key = 0;    // key number (KT::make / uniqueKey)
  uint64_t value = 0;  // seed of the value
  uint64_t n = 0;      // hint / reserve size / iterator steps
};

uint64_t g_lastHash = 0;
uint64_t eightChains(uint64_t h) { return g_lastHash = (h & 0xff00000000000000ull) | (h & 7); }

// A workload that reaches every allocation site: the first table (init), doubling grows
// with incremental evacuation, overflow buckets, long keys and values (boxes), overwrites
// with long values, reserve and shrink rebuilds (with an iterator started mid-grow alive),
// clear with an iterator holding the table, same-size grows (with forced collisions).
// `scale` shrinks the workload (and the number of allocations to sweep) for slow kinds.
std::vector<Op> makeWorkload(uint64_t seed, bool collisions, double scale) {
  Rng r(seed);
  auto times = [scale](int n) { return static_cast<int>(n * scale); };
  std::vector<Op> ops;
  uint64_t nextKey = 0;
  auto set = [&](uint64_t key) { ops.push_back({OpKind::kSet, key, r.next()}); };
  auto anyKey = [&]() { return nextKey == 0 ? 0 : r.below(nextKey); };
  ops.push_back({OpKind::kInit, 0, 0, 5});
  for (int i = 0; i < times(120); ++i) set(nextKey++);
  ops.push_back({OpKind::kStartIterator});
  ops.push_back({OpKind::kStepIterator, 0, 0, 30});
  for (int i = 0; i < times(80); ++i) {
    set(nextKey++);
    if (i % 3 == 0) set(anyKey());  // overwrite
    if (i % 4 == 0) ops.push_back({OpKind::kGetOrInsert, r.chance(50) ? anyKey() : nextKey++, r.next()});
    if (i % 5 == 0) ops.push_back({OpKind::kErase, anyKey()});
    if (i % 9 == 0) ops.push_back({OpKind::kStepIterator, 0, 0, 5});
  }
  ops.push_back({OpKind::kReserve, 0, 0, 700});
  ops.push_back({OpKind::kStepIterator, 0, 0, 20});
  for (int i = 0; i < times(150); ++i) ops.push_back({OpKind::kErase, anyKey()});
  ops.push_back({OpKind::kShrink});
  ops.push_back({OpKind::kStopIterator});
  // Grow again, start an iterator during the grow, then shrink and reserve under it.
  for (int i = 0; i < times(150); ++i) set(nextKey++);
  ops.push_back({OpKind::kSetUntilGrowing, 1000000});
  ops.push_back({OpKind::kStartIterator});
  ops.push_back({OpKind::kStepIterator, 0, 0, 10});
  ops.push_back({OpKind::kShrink});
  ops.push_back({OpKind::kReserve, 0, 0, 2000});
  ops.push_back({OpKind::kStepIterator, 0, 0, 10});
  // Churn.
  for (int i = 0; i < times(150); ++i) {
    ops.push_back({OpKind::kErase, anyKey()});
    set(nextKey++);
  }
  ops.push_back({OpKind::kClear});
  ops.push_back({OpKind::kStepIterator, 0, 0, 10});
  ops.push_back({OpKind::kStopIterator});
  if (collisions) {
    // A small table again, then a same-size grow (see kSameSizeChurn).
    ops.push_back({OpKind::kShrink});
    ops.push_back({OpKind::kReserve, 0, 0, 100});
    ops.push_back({OpKind::kStartIterator});
    ops.push_back({OpKind::kSameSizeChurn, 2000000});
    ops.push_back({OpKind::kStepIterator, 0, 0, 1000});
    ops.push_back({OpKind::kStopIterator});
  }
  for (int i = 0; i < 40; ++i) set(nextKey++);
  ops.push_back({OpKind::kClear});
  for (int i = 0; i < 20; ++i) set(nextKey++);
  return ops;
}

struct RunResult {
  uint64_t allocations = 0;   // allocations the run attempted
  int noMemory = 0;           // operations that returned kNoMemory
  size_t ops = 0;
  int iteratorsStartedMidGrow = 0;
  MapStats last;              // the map's stats before it is destroyed
};

// Runs the workload with allocation number failAt failing (0: none). A run stops 40
// operations after the one that failed: the rest would repeat what other runs check.
template <class KT, class VT>
RunResult runWorkload(const std::vector<Op>& ops, uint64_t failAt, bool collisions) {
  using Map = MapOf<KT, VT>;
  MapOptions opts;
  opts.fixedSeed = true;
  opts.seed = 1234;
  if (collisions) opts.hashOverride = eightChains;
  auto m = std::make_unique<Map>(opts);
  ModelOf<KT, VT> model;
  std::unique_ptr<typename Map::Iterator> it;
  RunResult res;
  const uint64_t alloc0 = allocationCount();
  failNthAllocation(failAt);

  auto valueOf = [](uint64_t seed) {
    Rng r(seed);
    return VT::random(r);
  };
  auto fail = [&](const std::string& why, size_t i) {
    failNthAllocation(0);
    ADD_FAILURE() << why << " at op " << i << " (failing allocation " << failAt << ")";
  };

  size_t stopAt = ops.size();
  for (size_t i = 0; i < stopAt; ++i) {
    const Op& op = ops[i];
    Status st = Status::kOk;
    bool expectChange = false;
    switch (op.kind) {
      case OpKind::kInit:
        st = m->init(op.n);
        break;
      case OpKind::kSet: {
        auto k = KT::make(op.key);
        auto v = valueOf(op.value);
        bool inserted = false;
        st = m->set(KT::view(k), VT::view(v), &inserted);
        if (st == Status::kOk) {
          bool isNew = model.insert_or_assign(k, v).second;
          if (inserted != isNew) return fail("set: wrong inserted flag", i), res;
        }
        break;
      }
      case OpKind::kSetUntilGrowing:
        // Fresh keys from op.key on until a grow is under way (stops at a failure, which
        // is then checked below like any other).
        for (uint64_t j = 0; j < 5000 && st == Status::kOk && !m->stats().growing; ++j) {
          auto k = KT::make(op.key + j);
          auto v = valueOf(j);
          st = m->set(KT::view(k), VT::view(v));
          if (st == Status::kOk) model.insert_or_assign(k, v);
        }
        break;
      case OpKind::kSameSizeChurn: {
        // With eightChains: lengthen chain 0 (80 entries), delete all but 2 of them (the
        // overflow buckets stay), then lengthen chain 1 until the overflow count starts a
        // same-size grow, and write on until it ends. Chains are learned by lookups.
        uint64_t next = op.key;
        auto freshIn = [&](uint64_t c) {
          for (;; ++next) {
            auto k = KT::make(next);
            g_lastHash = ~uint64_t{0};
            (void)m->contains(KT::view(k));
            if ((g_lastHash & 7) == c && model.count(k) == 0) {
              ++next;
              return k;
            }
          }
        };
        auto insertIn = [&](uint64_t c) {
          auto k = freshIn(c);
          auto v = valueOf(next);
          st = m->set(KT::view(k), VT::view(v));
          if (st == Status::kOk) model.emplace(k, v);
          return k;
        };
        std::vector<typename KT::Model> inA;
        for (int j = 0; j < 80 && st == Status::kOk; ++j) inA.push_back(insertIn(0));
        if (st == Status::kOk) {
          for (size_t j = 2; j < inA.size(); ++j) {
            if (!m->erase(KT::view(inA[j])) || model.erase(inA[j]) != 1) return fail("erase in churn", i), res;
          }
        }
        const uint64_t same0 = m->stats().sameSizeGrows;
        for (int j = 0; j < 300 && st == Status::kOk && m->stats().sameSizeGrows == same0; ++j) insertIn(1);
        for (int j = 0; j < 40 && st == Status::kOk && m->stats().growing; ++j) insertIn(2);
        break;
      }
      case OpKind::kGetOrInsert: {
        auto k = KT::make(op.key);
        auto v = valueOf(op.value);
        typename VT::Policy::View current{};
        bool inserted = false;
        st = m->getOrInsert(KT::view(k), VT::view(v), &current, &inserted);
        if (st == Status::kOk) {
          auto [pos, isNew] = model.try_emplace(k, v);
          if (inserted != isNew || !(VT::fromView(current) == pos->second)) return fail("getOrInsert mismatch", i), res;
        }
        break;
      }
      case OpKind::kErase: {
        auto k = KT::make(op.key);
        int calls = 0;
        bool erased = m->erase(KT::view(k), [&](const typename VT::Policy::View&) { ++calls; });
        bool was = model.erase(k) == 1;
        if (erased != was || calls != (was ? 1 : 0)) return fail("erase did not do its job", i), res;
        break;
      }
      case OpKind::kClear:
        m->clear();
        model.clear();
        if (m->size() != 0) return fail("clear did not clear", i), res;
        break;
      case OpKind::kReserve:
        st = m->reserve(op.n);
        expectChange = st == Status::kOk;
        break;
      case OpKind::kShrink:
        st = m->shrink();
        break;
      case OpKind::kStartIterator:
        res.iteratorsStartedMidGrow += m->stats().growing;
        it = std::make_unique<typename Map::Iterator>(*m);
        break;
      case OpKind::kStepIterator:
        if (it) {
          typename KT::Policy::View kv{};
          typename VT::Policy::View vv{};
          for (uint64_t s = 0; s < op.n && it->next(&kv, &vv); ++s) {
            auto found = model.find(KT::fromView(kv));
            if (found == model.end() || !(found->second == VT::fromView(vv))) {
              return fail("iterator produced an entry not in the map", i), res;
            }
          }
        }
        break;
      case OpKind::kStopIterator:
        it.reset();
        break;
    }
    ++res.ops;
    if (st == Status::kNoMemory) {
      ++res.noMemory;
      stopAt = std::min(stopAt, i + 41);
      // Unchanged: the model was not touched, the map must still equal it.
      failNthAllocation(0);  // (the failure has happened; keep the check itself clean)
      expectSameContents<KT, VT>(*m, model);
      if (::testing::Test::HasFatalFailure()) return fail("contents changed by a failed operation", i), res;
    } else if (st != Status::kOk) {
      return fail("unexpected status " + std::string(statusMessage(st)), i), res;
    }
    if (expectChange && m->stats().B < map_detail::bucketBitsFor(op.n)) return fail("reserve did not reserve", i), res;
    if (m->size() != model.size()) return fail("size differs from the model", i), res;
  }
  failNthAllocation(0);
  res.allocations = allocationCount() - alloc0;
  expectSameContents<KT, VT>(*m, model);
  res.last = m->stats();
  it.reset();
  m.reset();
  return res;
}

template <class KT, class VT>
void sweepAllocationFailures(uint64_t seed, bool collisions, double scale = 1.0) {
  const std::vector<Op> ops = makeWorkload(seed, collisions, scale);
  RunResult dry = runWorkload<KT, VT>(ops, 0, collisions);
  ASSERT_FALSE(::testing::Test::HasFailure());
  ASSERT_EQ(dry.noMemory, 0);
  ASSERT_GT(dry.allocations, 100u);
  // The workload reaches what it is meant to reach.
  ASSERT_GE(dry.iteratorsStartedMidGrow, 1);
  ASSERT_GE(dry.last.grows, 3u);
  ASSERT_GE(dry.last.shrinks, 1u);
  if (collisions) {
    ASSERT_GE(dry.last.sameSizeGrows, 1u);
  }
  int failedOps = 0;
  for (uint64_t n = 1; n <= dry.allocations; ++n) {
    RunResult r = runWorkload<KT, VT>(ops, n, collisions);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "with allocation " << n << " of " << dry.allocations << " failing";
      return;
    }
    ASSERT_LE(r.noMemory, 1) << "one failed allocation failed more than one operation";
    failedOps += r.noMemory;
  }
  // Most failed allocations surface as kNoMemory (some are absorbed: a grow that cannot
  // start, or growth work a delete skips).
  EXPECT_GT(failedOps, static_cast<int>(dry.allocations / 2));
  ::testing::Test::RecordProperty("allocations", static_cast<int>(dry.allocations));
  ::testing::Test::RecordProperty("ops_per_run", static_cast<int>(ops.size()));
}

TEST(GoMapAllocFailure, BlobKeysBlobValues) { sweepAllocationFailures<BlobKeyTraits, BlobValTraits>(1, false); }
TEST(GoMapAllocFailure, LongBlobKeysLongBlobValues) {
  sweepAllocationFailures<LongBlobKeyTraits, LongBlobValTraits>(2, false, 0.6);
}
TEST(GoMapAllocFailure, WordKeysWithCollisions) { sweepAllocationFailures<U64Key, U64Val>(3, true); }
TEST(GoMapAllocFailure, LongBlobKeysWithCollisions) {
  sweepAllocationFailures<LongBlobKeyTraits, SlabVal>(4, true, 0.6);
}

// The hook itself: the Nth allocation fails once, then allocations succeed again.
TEST(GoMapAllocFailure, HookFailsExactlyOnce) {
  GoMap<BlobKey, Word64Value> m;
  const std::string k = longKey(1);
  failNthAllocation(1);
  EXPECT_EQ(m.set(blobView(k), 1), Status::kNoMemory);  // the first table cannot be allocated
  EXPECT_EQ(m.size(), 0u);
  EXPECT_FALSE(m.contains(blobView(k)));
  EXPECT_EQ(m.set(blobView(k), 1), Status::kOk);
  EXPECT_TRUE(m.contains(blobView(k)));
  failNthAllocation(0);
}

}  // namespace
}  // namespace gomap_test

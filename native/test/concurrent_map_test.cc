// ConcurrentMap: single-threaded semantics of every operation (the sync.Map methods),
// and the reference counting of views and iterators.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>

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

TEST_F(ConcurrentMapBasics, TagIsPartOfTheKey) {
  bool inserted = false;
  Blob latin = str("k");
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
  Blob taggedBytes = str("v4");
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

}  // namespace

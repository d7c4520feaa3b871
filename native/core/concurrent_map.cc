// ConcurrentMap, first version: the non-template operations (see concurrent_map.h).
#include "concurrent_map.h"

namespace gomap {

ConcurrentMap::ConcurrentMap(const MapOptions&) {}
ConcurrentMap::~ConcurrentMap() = default;

Status ConcurrentMap::create(const MapOptions& options, ConcurrentMap** out) noexcept {
  if (map_detail::bucketBitsFor(options.hint) >= map_detail::kMaxB) return Status::kTooLarge;
  auto* m = new (std::nothrow) ConcurrentMap(options);
  if (m == nullptr) return Status::kNoMemory;
  *out = m;
  return Status::kOk;
}

void ConcurrentMap::release() noexcept {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

Status ConcurrentMap::store(ebr::ThreadRecord& rec, Blob key, Blob value, bool* inserted) {
  bool loaded = false;
  Status s = swap(rec, key, value, [](Blob) {}, &loaded);
  if (inserted != nullptr) *inserted = !loaded;
  return s;
}

Status ConcurrentMap::compareAndSwap(ebr::ThreadRecord& rec, Blob key, Blob expected, Blob value, bool* swapped) {
  if (tooLarge(key) || tooLarge(value)) return Status::kTooLarge;
  ebr::Guard guard(rec);
  std::lock_guard<std::mutex> lock(writeLock_);
  *swapped = false;
  auto found = table_.find(encode(key));
  if (found == table_.end() || !(view(found->second) == expected)) return Status::kOk;
  try {
    found->second = encode(value);
  } catch (const std::bad_alloc&) {
    return Status::kNoMemory;
  }
  *swapped = true;
  return Status::kOk;
}

bool ConcurrentMap::compareAndDelete(ebr::ThreadRecord& rec, Blob key, Blob expected) {
  ebr::Guard guard(rec);
  std::lock_guard<std::mutex> lock(writeLock_);
  auto found = table_.find(encode(key));
  if (found == table_.end() || !(view(found->second) == expected)) return false;
  table_.erase(found);
  count_.store(table_.size(), std::memory_order_relaxed);
  return true;
}

bool ConcurrentMap::erase(ebr::ThreadRecord& rec, Blob key) {
  return loadAndDelete(rec, key, [](Blob) {});
}

void ConcurrentMap::clear(ebr::ThreadRecord& rec) {
  ebr::Guard guard(rec);
  std::lock_guard<std::mutex> lock(writeLock_);
  table_.clear();
  count_.store(0, std::memory_order_relaxed);
}

Status ConcurrentMap::reserve(ebr::ThreadRecord&, uint64_t n) {
  if (map_detail::bucketBitsFor(n) >= map_detail::kMaxB) return Status::kTooLarge;
  return Status::kOk;
}

MapStats ConcurrentMap::stats(ebr::ThreadRecord&) {
  std::lock_guard<std::mutex> lock(writeLock_);
  MapStats s;
  s.count = table_.size();
  s.buckets = 1;
  return s;
}

Status ConcurrentMap::iterStart(ebr::ThreadRecord&, Iterator** out) noexcept {
  auto* it = new (std::nothrow) Iterator();
  if (it == nullptr) return Status::kNoMemory;
  try {
    std::lock_guard<std::mutex> lock(writeLock_);
    for (auto& kv : table_) it->keys.push_back(kv.first);
  } catch (const std::bad_alloc&) {
    delete it;
    return Status::kNoMemory;
  }
  it->map = this;
  retain();
  *out = it;
  return Status::kOk;
}

void ConcurrentMap::iterEnd(Iterator* it) noexcept {
  if (it == nullptr) return;
  ConcurrentMap* m = it->map;
  delete it;
  m->release();
}

}  // namespace gomap

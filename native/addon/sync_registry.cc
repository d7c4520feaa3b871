#include "sync_registry.h"

#include <memory>

namespace gomap::addon {

SyncRegistry& SyncRegistry::global() {
  static SyncRegistry* registry = new SyncRegistry();  // leaked on purpose (see the header)
  return *registry;
}

double SyncRegistry::add(ConcurrentMap* map, SyncKind key, SyncKind value) {
  auto entry = std::make_unique<Entry>(Entry{map, key, value, 1});
  std::lock_guard<std::mutex> lock(mu_);
  double id = table_.add(entry.get());
  entry.release();
  return id;
}

SyncRegistry::Attach SyncRegistry::attach(double id, SyncKind key, SyncKind value, ConcurrentMap** out,
                                          SyncKind* actualKey, SyncKind* actualValue) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry* e = table_.find(id);
  if (e == nullptr) return Attach::kGone;
  if (e->key != key || e->value != value) {
    *actualKey = e->key;
    *actualValue = e->value;
    return Attach::kWrongKinds;
  }
  e->map->retain();
  ++e->views;
  *out = e->map;
  return Attach::kOk;
}

void SyncRegistry::detach(double id) {
  ConcurrentMap* map = nullptr;
  Entry* gone = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e = table_.find(id);
    if (e == nullptr) return;
    map = e->map;
    if (--e->views == 0) gone = table_.remove(id);
  }
  delete gone;
  map->release();  // outside the lock: the last release frees the whole table
}

size_t SyncRegistry::liveMaps() {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.live();
}

}  // namespace gomap::addon

#include "sync_env.h"

#include <memory>

#include "sync_registry.h"

namespace gomap::addon {

thread_local SyncEnv* SyncEnv::current_ = nullptr;

SyncEnv* SyncEnv::create(napi_env env, uint64_t* io) {
  std::unique_ptr<SyncEnv> state(new (std::nothrow) SyncEnv());
  if (!state) return nullptr;
  state->env_ = env;
  state->io_ = io;
  if (napi_add_env_cleanup_hook(env, cleanUp, state.get()) != napi_ok) return nullptr;
  current_ = state.get();
  return state.release();
}

void SyncEnv::cleanUp(void* arg) { delete static_cast<SyncEnv*>(arg); }

SyncEnv::~SyncEnv() {
  if (current_ == this) current_ = nullptr;
  iterators_.forEach([](SyncIter* iter) {
    iter->owner->map->iterEnd(iter->it);
    delete iter;
  });
  SyncRegistry& registry = SyncRegistry::global();
  // No napi_adjust_external_memory here: the environment is shutting down.
  views_.forEach([&](SyncView* view) {
    registry.detach(view->id);
    delete view;
  });
  if (record_ != nullptr) ebr::unregisterThread(record_);
}

double SyncEnv::addView(ConcurrentMap* map, double id, SyncKind key, SyncKind value) {
  auto view = std::make_unique<SyncView>();
  view->map = map;
  view->id = id;
  view->key = key;
  view->value = value;
  view->handle = views_.add(view.get());
  return view.release()->handle;
}

void SyncEnv::trackMemory(SyncView* view) {
  const int64_t now = static_cast<int64_t>(view->map->bytes());
  const int64_t delta = now - view->reportedBytes;
  if (delta < kSyncExternalMemoryStep && delta > -kSyncExternalMemoryStep) return;
  int64_t total = 0;
  if (napi_adjust_external_memory(env_, delta, &total) == napi_ok) view->reportedBytes = now;
}

bool SyncEnv::closeView(double handle) {
  SyncView* view = views_.remove(handle);
  if (view == nullptr) return false;
  while (view->iterators != nullptr) endIterator(view->iterators);
  if (view->reportedBytes != 0) {
    int64_t total = 0;
    napi_adjust_external_memory(env_, -view->reportedBytes, &total);
    view->reportedBytes = 0;
  }
  SyncRegistry::global().detach(view->id);
  delete view;
  return true;
}

double SyncEnv::addIterator(SyncView* view, ConcurrentMap::Iterator* it) {
  auto iter = std::make_unique<SyncIter>();
  iter->owner = view;
  iter->it = it;
  iter->handle = iterators_.add(iter.get());
  SyncIter* raw = iter.release();
  raw->next = view->iterators;
  if (raw->next != nullptr) raw->next->prev = raw;
  view->iterators = raw;
  return raw->handle;
}

void SyncEnv::endIterator(SyncIter* iter) {
  SyncView* view = iter->owner;
  if (iter->prev != nullptr) iter->prev->next = iter->next;
  else view->iterators = iter->next;
  if (iter->next != nullptr) iter->next->prev = iter->prev;
  iterators_.remove(iter->handle);
  view->map->iterEnd(iter->it);
  delete iter;
}

}  // namespace gomap::addon

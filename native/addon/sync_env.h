// SyncEnv: what one JS thread (one Node-API environment) holds of the shared maps.
//
// Created at module init for every environment that loads the addon (the main thread,
// each worker), and freed by an environment clean-up hook (napi_add_env_cleanup_hook),
// which Node runs when the thread's environment shuts down: at a normal exit, and when a
// worker is terminated. It holds
//
//   - the thread's EBR record (core/epoch.h), registered on first use. The clean-up hook
//     unregisters it, so a worker that exits or is terminated never holds back the
//     reclamation of memory other threads retire;
//   - the thread's views: a view is one `SyncMap` object, named in JS by a view handle
//     (handle_table.h: generation-checked, meaningful only in this thread). Each view
//     holds one reference of its map through the registry (sync_registry.h); closing it
//     (or the clean-up) gives that reference back;
//   - the native iterators of those views, linked to their view so that closing the view
//     ends them;
//   - conversion scratch for keys, values and compared values (sync_codec.h);
//   - what each view reported to V8 (napi_adjust_external_memory): a view keeps the
//     whole shared map alive, so it reports the map's bytes, in steps of
//     kSyncExternalMemoryStep, when it is opened and after its writes; V8 then knows
//     what a dropped view of a big map holds and collects it promptly. Closing a view
//     (close() or its finalizer, both from JS) takes its report back exactly once; the
//     environment clean-up does not call V8 (its isolate is going away with the report).
//
// Only the environment's own thread uses a SyncEnv: no locks.
#pragma once

#include <node_api.h>

#include <cstdint>

#include "core/concurrent_map.h"
#include "core/epoch.h"
#include "handle_table.h"
#include "sync_codec.h"

namespace gomap::addon {

struct SyncIter;

// V8 is told about a view's native bytes in steps of this many (as GoMap's
// kExternalMemoryStep): a small map reports nothing, a big one is off by under a step.
constexpr int64_t kSyncExternalMemoryStep = 1 << 20;

// One view: a map, its registry id and its kinds.
struct SyncView {
  ConcurrentMap* map = nullptr;
  double id = 0;       // registry id of the map
  double handle = 0;   // this view's handle in its SyncEnv
  SyncKind key = SyncKind::kString;
  SyncKind value = SyncKind::kString;
  SyncIter* iterators = nullptr;  // live iterators of this view (intrusive list)
  int64_t reportedBytes = 0;      // reported to V8 for this view (>= 0)
  bool isCache = false;           // a view of a shared GoCache (shared_cache_functions.cc)
  uint64_t manualNow = 0;         // a cache view's manual clock (ms; 0: the monotonic clock)
};

// One native iterator of a view.
struct SyncIter {
  SyncView* owner = nullptr;
  ConcurrentMap::Iterator* it = nullptr;
  double handle = 0;
  SyncIter* prev = nullptr;
  SyncIter* next = nullptr;
};

class SyncEnv {
 public:
  SyncEnv() = default;
  SyncEnv(const SyncEnv&) = delete;
  SyncEnv& operator=(const SyncEnv&) = delete;
  // Ends every iterator, closes every view, unregisters the EBR record.
  ~SyncEnv();

  // Creates the SyncEnv of `env` and registers its clean-up hook; nullptr on failure.
  // `io` is the thread's I/O area (io_area.h), which the fast calls share with GoMap's.
  static SyncEnv* create(napi_env env, uint64_t* io);

  // The SyncEnv of `env`, for the fast calls, which take no arguments (one environment
  // per JS thread: a thread-local pointer, checked against the env).
  static SyncEnv* of(napi_env env) {
    SyncEnv* s = current_;
    return s != nullptr && s->env_ == env ? s : nullptr;
  }
  uint64_t* io() const { return io_; }

  // The thread's EBR record, registered on first use; nullptr when out of memory.
  ebr::ThreadRecord* record() {
    if (record_ == nullptr) record_ = ebr::registerThread();
    return record_;
  }

  SyncView* findView(double handle) const { return views_.find(handle); }
  // Registers a view that already holds its reference (throws std::bad_alloc: the caller
  // still owns the reference then).
  double addView(ConcurrentMap* map, double id, SyncKind key, SyncKind value);
  // Closes a view (its iterators first) and takes back its report to V8; false when the
  // handle names no open view. Call it from JS only (it calls into the environment).
  bool closeView(double handle);
  // Reports the view's map bytes to V8 when they moved by a step since the last report.
  // Call it from JS only, with a view that is open.
  void trackMemory(SyncView* view);

  SyncIter* findIterator(double handle) const { return iterators_.find(handle); }
  // Registers a native iterator of `view` (throws std::bad_alloc: the caller ends it then).
  double addIterator(SyncView* view, ConcurrentMap::Iterator* it);
  void endIterator(SyncIter* iter);

  size_t liveViews() const { return views_.live(); }
  size_t liveIterators() const { return iterators_.live(); }

  SyncScratch keyScratch;
  SyncScratch valueScratch;
  SyncScratch oldScratch;

 private:
  static void cleanUp(void* arg);
  static thread_local SyncEnv* current_;

  napi_env env_ = nullptr;
  uint64_t* io_ = nullptr;
  ebr::ThreadRecord* record_ = nullptr;
  HandleTable<SyncView> views_;
  HandleTable<SyncIter> iterators_;
};

}  // namespace gomap::addon

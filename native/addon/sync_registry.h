// SyncRegistry: the process-global list of shared maps, which handles name.
//
// Every JS thread (the main thread, each worker) has its own addon instance, but a
// SyncMap is one native map for all of them. A thread finds it through this registry:
// `map.handle` carries the map's id (a HandleTable number: slot index + generation, so an
// id of a freed map no longer matches its slot even when the slot was reused, and a
// forged number almost never matches anything), and its key and value kinds, which must
// match the ones the map was created with.
//
// Lifetime: each view (one `SyncMap` object in one thread) holds one reference of the
// core map (ConcurrentMap::retain / release) and counts as one view here. When the last
// view is closed (close(), the façade's FinalizationRegistry, or the clean-up of the
// environment that held it), the id is forgotten, so later attaches are refused, and the
// map is released.
//
// Thread-safe: one mutex guards the table. It is taken to create, attach and close
// views, never on the path of a read or a write of the map.
#pragma once

#include <cstdint>
#include <mutex>

#include "core/concurrent_map.h"
#include "handle_table.h"
#include "sync_codec.h"

namespace gomap::addon {

class SyncRegistry {
 public:
  // The one registry of the process (never destroyed: threads may still be shutting down
  // when static destructors run).
  static SyncRegistry& global();

  enum class Attach { kOk, kGone, kWrongKinds };

  // Registers a new map with one view, taking over the caller's reference. Returns its
  // id. Throws std::bad_alloc (the caller still owns its reference then).
  double add(ConcurrentMap* map, SyncKind key, SyncKind value);

  // A new view of the map `id` names, with kinds `key` / `value`: retains the map and
  // stores it in *out. kGone: no live map has this id; kWrongKinds: it has other kinds
  // (*actualKey / *actualValue say which).
  Attach attach(double id, SyncKind key, SyncKind value, ConcurrentMap** out, SyncKind* actualKey,
                SyncKind* actualValue);

  // Ends a view of `id`; the last one forgets the id and releases the map.
  void detach(double id);

  // Shared maps alive in the process (tests).
  size_t liveMaps();

 private:
  struct Entry {
    ConcurrentMap* map;
    SyncKind key;
    SyncKind value;
    uint64_t views;
  };

  std::mutex mu_;
  HandleTable<Entry> table_;
};

}  // namespace gomap::addon

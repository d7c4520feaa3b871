// AddonState: everything one addon instance owns (one per JS thread: the main thread and
// each worker load their own instance, set with napi_set_instance_data).
//
// It maps handles (see handle_table.h) to the maps and iterators created through this
// instance, and frees whatever is still open when the environment shuts down. The
// JS-callable functions get it as their callback data, so finding it costs nothing.
#pragma once

#include <node_api.h>

#include <memory>

#include "handle_table.h"
#include "map_binding.h"

namespace gomap::addon {

class AddonState {
 public:
  explicit AddonState(napi_env env) : env_(env) {}
  AddonState(const AddonState&) = delete;
  AddonState& operator=(const AddonState&) = delete;
  ~AddonState();

  MapBinding* findMap(double handle) const { return maps_.find(handle); }
  IterBinding* findIterator(double handle) const { return iterators_.find(handle); }

  // Registers a new map and returns its handle (throws std::bad_alloc).
  double addMap(std::unique_ptr<MapBinding> map);
  // Frees a map and its iterators; false when the handle names no live map.
  bool closeMap(napi_env env, double handle);

  // Starts an iterator over `map` and returns its handle; 0 when out of memory.
  double startIterator(MapBinding* map);
  // Frees an iterator (its map stays).
  void endIterator(IterBinding* it);

  napi_env env() const { return env_; }

  // The I/O area of the fast calls (io_area.h): an ArrayBuffer this state keeps alive.
  // Creates it on first use; returns nullptr (with a JS exception) on failure.
  napi_value ioBuffer(napi_env env);
  uint64_t* io() const { return io_; }

  // The state of `env`, cached per thread (one environment per JS thread).
  static AddonState* of(napi_env env) {
    AddonState* s = current_;
    if (s != nullptr && s->env_ == env) return s;
    return lookUp(env);
  }

  size_t liveMaps() const { return maps_.live(); }
  size_t liveIterators() const { return iterators_.live(); }

 private:
  static AddonState* lookUp(napi_env env);
  static thread_local AddonState* current_;

  napi_env env_;
  uint64_t* io_ = nullptr;
  napi_ref ioRef_ = nullptr;
  HandleTable<MapBinding> maps_;
  HandleTable<IterBinding> iterators_;
};

}  // namespace gomap::addon

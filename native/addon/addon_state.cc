#include "addon_state.h"

#include <new>

#include "io_area.h"

namespace gomap::addon {

thread_local AddonState* AddonState::current_ = nullptr;

AddonState* AddonState::lookUp(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  current_ = static_cast<AddonState*>(data);
  return current_;
}

napi_value AddonState::ioBuffer(napi_env env) {
  napi_value buffer = nullptr;
  if (ioRef_ != nullptr) {
    napi_get_reference_value(env, ioRef_, &buffer);
    return buffer;
  }
  void* data = nullptr;
  if (napi_create_arraybuffer(env, kIoBytes, &data, &buffer) != napi_ok) return nullptr;
  if (napi_create_reference(env, buffer, 1, &ioRef_) != napi_ok) return nullptr;
  io_ = static_cast<uint64_t*>(data);
  return buffer;
}

AddonState::~AddonState() {
  if (current_ == this) current_ = nullptr;
  // Iterators first: they refer to their maps. (No napi calls here: the env is going away.)
  iterators_.forEach([](IterBinding* it) { delete it; });
  maps_.forEach([](MapBinding* map) { delete map; });
}

double AddonState::addMap(std::unique_ptr<MapBinding> map) {
  double handle = maps_.add(map.get());
  map->handle = handle;
  map.release();
  return handle;
}

bool AddonState::closeMap(napi_env env, double handle) {
  MapBinding* map = maps_.remove(handle);
  if (map == nullptr) return false;
  while (map->iterators != nullptr) {
    IterBinding* it = map->iterators;
    map->unlinkIterator(it);
    iterators_.remove(it->handle);
    delete it;
  }
  if (map->reportedBytes != 0) {
    int64_t total = 0;
    napi_adjust_external_memory(env, -map->reportedBytes, &total);
  }
  delete map;
  return true;
}

double AddonState::startIterator(MapBinding* map) {
  IterBinding* it = map->newIterator();
  if (it == nullptr) return 0;
  try {
    it->handle = iterators_.add(it);
  } catch (const std::bad_alloc&) {
    delete it;
    return 0;
  }
  map->linkIterator(it);
  return it->handle;
}

void AddonState::endIterator(IterBinding* it) {
  it->owner->unlinkIterator(it);
  iterators_.remove(it->handle);
  delete it;
}

}  // namespace gomap::addon

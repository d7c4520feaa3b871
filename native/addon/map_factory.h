// Instantiates TypedMap<KeyCodec, ValueCodec> for a value kind chosen at run time.
// Included by map_factory_word.cc and map_factory_blob.cc only.
#pragma once

#include <memory>
#include <new>

#include "map_binding.h"
#include "typed_map.h"

namespace gomap::addon {

template <class KC, class VC>
std::unique_ptr<MapBinding> makeTypedMap(const MapOptions& options, Status* status) {
  std::unique_ptr<TypedMap<KC, VC>> map(new (std::nothrow) TypedMap<KC, VC>(options));
  if (!map) {
    *status = Status::kNoMemory;
    return nullptr;
  }
  *status = map->init(options.hint);
  if (*status != Status::kOk) return nullptr;
  return map;
}

template <class KC>
std::unique_ptr<MapBinding> makeMapWithKeys(ValueKind value, const MapOptions& options, Status* status) {
  switch (value) {
    case ValueKind::kF64: return makeTypedMap<KC, F64Values>(options, status);
    case ValueKind::kI64: return makeTypedMap<KC, I64Values>(options, status);
    case ValueKind::kString: return makeTypedMap<KC, StringValues>(options, status);
    case ValueKind::kBytes: return makeTypedMap<KC, BytesValues>(options, status);
    case ValueKind::kAny: return makeTypedMap<KC, SlabValues>(options, status);
  }
  *status = Status::kTooLarge;
  return nullptr;
}

}  // namespace gomap::addon

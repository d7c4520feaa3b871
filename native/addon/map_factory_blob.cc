// TypedMap instantiations for blob keys ('string', 'bytes', 'any'); see map_factory.h.
#include "map_factory.h"

namespace gomap::addon {

std::unique_ptr<MapBinding> createBlobKeyedMap(KeyKind key, ValueKind value, const MapOptions& options,
                                               Status* status) {
  switch (key) {
    case KeyKind::kString: return makeMapWithKeys<StringKeys>(value, options, status);
    case KeyKind::kBytes: return makeMapWithKeys<BytesKeys>(value, options, status);
    default: return makeMapWithKeys<AnyKeys>(value, options, status);
  }
}

std::unique_ptr<MapBinding> createMapBinding(KeyKind key, ValueKind value, const MapOptions& options,
                                             Status* status) {
  if (key == KeyKind::kF64 || key == KeyKind::kI64) return createWordKeyedMap(key, value, options, status);
  return createBlobKeyedMap(key, value, options, status);
}

}  // namespace gomap::addon

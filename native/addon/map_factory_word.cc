// TypedMap instantiations for 8-byte keys ('f64', 'i64'); see map_factory.h.
#include "map_factory.h"

namespace gomap::addon {

std::unique_ptr<MapBinding> createWordKeyedMap(KeyKind key, ValueKind value, const MapOptions& options,
                                               Status* status) {
  if (key == KeyKind::kF64) return makeMapWithKeys<F64Keys>(value, options, status);
  return makeMapWithKeys<I64Keys>(value, options, status);
}

}  // namespace gomap::addon

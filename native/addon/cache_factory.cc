// TypedCache instantiations: every key kind x native value kind (see cache_binding.h).
#include <memory>
#include <new>

#include "cache_binding.h"

namespace gomap::addon {

namespace {

template <class KC, class VC>
std::unique_ptr<CacheBinding> makeCache(const MapOptions& options, const CacheLimits& limits, ReportMode report) {
  return std::unique_ptr<CacheBinding>(new (std::nothrow) TypedCache<KC, VC>(options, limits, report));
}

template <class KC>
std::unique_ptr<CacheBinding> makeWithKeys(ValueKind value, const MapOptions& options, const CacheLimits& limits,
                                           ReportMode report) {
  switch (value) {
    case ValueKind::kF64: return makeCache<KC, F64Values>(options, limits, report);
    case ValueKind::kI64: return makeCache<KC, I64Values>(options, limits, report);
    case ValueKind::kString: return makeCache<KC, StringValues>(options, limits, report);
    case ValueKind::kBytes: return makeCache<KC, BytesValues>(options, limits, report);
    case ValueKind::kAny: return makeCache<KC, SlabValues>(options, limits, report);
  }
  return nullptr;
}

}  // namespace

std::unique_ptr<CacheBinding> createCacheBinding(KeyKind key, ValueKind value, const MapOptions& options,
                                                 const CacheLimits& limits, ReportMode report) {
  switch (key) {
    case KeyKind::kF64: return makeWithKeys<F64Keys>(value, options, limits, report);
    case KeyKind::kI64: return makeWithKeys<I64Keys>(value, options, limits, report);
    case KeyKind::kString: return makeWithKeys<StringKeys>(value, options, limits, report);
    case KeyKind::kBytes: return makeWithKeys<BytesKeys>(value, options, limits, report);
    case KeyKind::kAny: return makeWithKeys<AnyKeys>(value, options, limits, report);
  }
  return nullptr;
}

}  // namespace gomap::addon

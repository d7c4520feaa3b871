#include "js_string.h"

#include <cstring>
#include <new>

namespace gomap::addon {

napi_status StringReader::readLong(napi_env env, napi_value value, size_t* length, const char16_t** units,
                                   uint8_t** narrow) {
  size_t full = 0;
  napi_status status = napi_get_value_string_utf16(env, value, nullptr, 0, &full);
  if (status != napi_ok) return status;
  if (full < kInlineUnits) return napi_ok;  // it was exactly kInlineUnits - 1 units long
  if (full + 1 > heapCapacity_) {
    heapUnits_.reset(new (std::nothrow) char16_t[full + 1]);
    heapNarrow_.reset(new (std::nothrow) uint8_t[full + 1]);
    heapCapacity_ = (heapUnits_ && heapNarrow_) ? full + 1 : 0;
    if (heapCapacity_ == 0) return napi_generic_failure;
  }
  size_t copied = 0;
  status = napi_get_value_string_utf16(env, value, heapUnits_.get(), full + 1, &copied);
  if (status != napi_ok) return status;
  *length = copied;
  *units = heapUnits_.get();
  *narrow = heapNarrow_.get();
  return napi_ok;
}

napi_value stringFromBlob(napi_env env, const Blob& blob) {
  napi_value result = nullptr;
  if (blob.tag == kTagLatin1) {
    napi_create_string_latin1(env, reinterpret_cast<const char*>(blob.data), blob.len, &result);
    return result;
  }
  const size_t units = blob.len / 2;
  if ((reinterpret_cast<uintptr_t>(blob.data) & 1) == 0) {
    napi_create_string_utf16(env, reinterpret_cast<const char16_t*>(blob.data), units, &result);
    return result;
  }
  // Slot bytes are not 2-byte aligned: copy to an aligned buffer first.
  constexpr size_t kStackUnits = 256;
  char16_t stack[kStackUnits];
  std::unique_ptr<char16_t[]> heap;
  char16_t* aligned = stack;
  if (units > kStackUnits) {
    heap.reset(new (std::nothrow) char16_t[units]);
    if (!heap) return nullptr;
    aligned = heap.get();
  }
  std::memcpy(aligned, blob.data, units * 2);
  napi_create_string_utf16(env, aligned, units, &result);
  return result;
}

}  // namespace gomap::addon

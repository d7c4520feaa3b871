#include "packed.h"

#include <cstring>

#include "errors.h"

namespace gomap::addon {

namespace {
constexpr uint32_t kWidePiece = 0x80000000u;
}

uint32_t JoinedStrings::add(const Blob& blob) {
  const bool wide = blob.tag == kTagUtf16;
  bytes_.insert(bytes_.end(), blob.data, blob.data + blob.len);
  pieces_.push_back(blob.len | (wide ? kWidePiece : 0));
  const uint32_t units = wide ? blob.len / 2 : blob.len;
  units_ += units;
  wide_ = wide_ || wide;
  return units;
}

napi_value JoinedStrings::toJs(napi_env env) const {
  napi_value result = nullptr;
  if (!wide_) {
    napi_create_string_latin1(env, reinterpret_cast<const char*>(bytes_.data()), bytes_.size(), &result);
  } else {
    std::vector<char16_t> units(units_);
    size_t at = 0;
    const uint8_t* p = bytes_.data();
    for (uint32_t piece : pieces_) {
      const uint32_t len = piece & ~kWidePiece;
      if ((piece & kWidePiece) != 0) {
        std::memcpy(units.data() + at, p, len);
        at += len / 2;
      } else {
        for (uint32_t i = 0; i < len; ++i) units[at++] = p[i];
      }
      p += len;
    }
    napi_create_string_utf16(env, units.data(), units.size(), &result);
  }
  if (result == nullptr) throwRangeError(env, "GoMap could not create the strings of an iteration batch");
  return result;
}

}  // namespace gomap::addon

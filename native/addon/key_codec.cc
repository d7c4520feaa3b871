#include "key_codec.h"

#include <new>

namespace gomap::addon {

namespace {

constexpr size_t kInlineBigIntWords = 1;  // AnyKeys::Scratch::small holds sign + 8 bytes
constexpr double kMaxRefId = 9007199254740992.0;  // 2^53

uint64_t loadLE64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void storeLE64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// Canonical bytes of a bigint: sign byte (0 or 1), then the magnitude little-endian with no
// trailing zero bytes (0n is the single byte 0).
bool readBigInt(napi_env env, napi_value value, AnyKeys::Scratch& scratch, Blob* out) {
  int sign = 0;
  size_t count = 0;
  if (napi_get_value_bigint_words(env, value, nullptr, &count, nullptr) != napi_ok) {
    throwWrongKind(env, "key", "a bigint", AnyKeys::kName, value);
    return false;
  }
  const size_t bytes = 1 + count * 8;
  if (bytes > kMaxBlobLength) {
    throwTooLong(env, "key", AnyKeys::kName, bytes);
    return false;
  }
  uint8_t* dst = scratch.small;
  std::unique_ptr<uint64_t[]> words(count > kInlineBigIntWords ? new (std::nothrow) uint64_t[count] : nullptr);
  uint64_t inlineWord = 0;
  uint64_t* w = count > kInlineBigIntWords ? words.get() : &inlineWord;
  if (w == nullptr) {
    throwStatus(env, Status::kNoMemory, "bigint key conversion");
    return false;
  }
  if (bytes > sizeof scratch.small) {
    if (bytes > scratch.bigCapacity) {
      scratch.big.reset(new (std::nothrow) uint8_t[bytes]);
      scratch.bigCapacity = scratch.big ? bytes : 0;
      if (!scratch.big) {
        throwStatus(env, Status::kNoMemory, "bigint key conversion");
        return false;
      }
    }
    dst = scratch.big.get();
  }
  size_t got = count;
  if (count != 0 && napi_get_value_bigint_words(env, value, &sign, &got, w) != napi_ok) {
    throwWrongKind(env, "key", "a bigint", AnyKeys::kName, value);
    return false;
  }
  size_t n = 1;
  for (size_t i = 0; i < count; ++i) {
    storeLE64(dst + n, w[i]);
    n += 8;
  }
  while (n > 1 && dst[n - 1] == 0) --n;
  dst[0] = (n > 1 && sign != 0) ? 1 : 0;
  *out = Blob{kTagBigInt, dst, static_cast<uint32_t>(n)};
  return true;
}

napi_value bigIntFromBlob(napi_env env, const Blob& blob) {
  const size_t magnitude = blob.len > 0 ? blob.len - 1 : 0;
  const size_t count = magnitude == 0 ? 1 : (magnitude + 7) / 8;
  uint64_t one = 0;
  std::unique_ptr<uint64_t[]> many(count > 1 ? new (std::nothrow) uint64_t[count] : nullptr);
  uint64_t* words = count > 1 ? many.get() : &one;
  if (words == nullptr) return nullptr;
  for (size_t i = 0; i < count; ++i) {
    uint8_t chunk[8] = {0};
    size_t from = 1 + i * 8;
    size_t take = blob.len > from ? blob.len - from : 0;
    if (take > 8) take = 8;
    if (take != 0) std::memcpy(chunk, blob.data + from, take);
    words[i] = loadLE64(chunk);
  }
  int sign = (blob.len > 0 && blob.data[0] != 0) ? 1 : 0;
  napi_value result = nullptr;
  napi_create_bigint_words(env, sign, count, words, &result);
  return result;
}

}  // namespace

bool readRefId(napi_env env, napi_value id, uint8_t out[8]) {
  double d;
  if (napi_get_value_double(env, id, &d) != napi_ok || !(d >= 0 && d < kMaxRefId) ||
      static_cast<double>(static_cast<uint64_t>(d)) != d) {
    throwTypeError(env, "GoMap internal error: an object or symbol key needs an integer identity id, got " +
                            describeType(env, id));
    return false;
  }
  storeLE64(out, static_cast<uint64_t>(d));
  return true;
}

bool readBytesBlob(napi_env env, napi_value value, Blob* out, const char* role, const char* kind) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    throwWrongKind(env, role, "a Uint8Array or Buffer", kind, value);
    return false;
  }
  if (length > kMaxBlobLength) {
    throwTooLong(env, role, kind, length);
    return false;
  }
  static const uint8_t kNothing = 0;
  *out = Blob{kTagBytes, data != nullptr ? static_cast<const uint8_t*>(data) : &kNothing,
              static_cast<uint32_t>(length)};
  return true;
}

bool AnyKeys::read(napi_env env, napi_value value, const RefSource& ref, Scratch& scratch, View* out) {
  if (ref.single != nullptr) {
    if (!readRefId(env, ref.single, scratch.small)) return false;
    *out = Blob{kTagObjectRef, scratch.small, 8};
    return true;
  }
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) {
    throwTypeError(env, "GoMap key could not be read");
    return false;
  }
  switch (type) {
    case napi_number: {
      double d;
      napi_get_value_double(env, value, &d);
      storeLE64(scratch.small, f64KeyBits(d));
      *out = Blob{kTagNumber, scratch.small, 8};
      return true;
    }
    case napi_string:
      return readStringBlob(env, value, scratch.reader, out, "key", kName);
    case napi_bigint:
      return readBigInt(env, value, scratch, out);
    case napi_boolean: {
      bool b = false;
      napi_get_value_bool(env, value, &b);
      *out = Blob{b ? kTagTrue : kTagFalse, scratch.small, 0};
      return true;
    }
    case napi_undefined:
      *out = Blob{kTagUndefined, scratch.small, 0};
      return true;
    case napi_null:
      *out = Blob{kTagNull, scratch.small, 0};
      return true;
    case napi_object:
    case napi_function:
    case napi_symbol: {
      if (ref.many != nullptr) {
        if (!readRefId(env, ref.many[ref.index], scratch.small)) return false;
        *out = Blob{kTagObjectRef, scratch.small, 8};
        return true;
      }
      throwTypeError(env, "GoMap internal error: object and symbol keys are passed by identity id");
      return false;
    }
    case napi_external:
      break;
  }
  throwWrongKind(env, "key", "a JavaScript value", kName, value);
  return false;
}

napi_value blobToJs(napi_env env, const Blob& blob) {
  napi_value result = nullptr;
  switch (blob.tag) {
    case kTagLatin1:
    case kTagUtf16:
      result = stringFromBlob(env, blob);
      break;
    case kTagBytes: {
      void* copy = nullptr;
      napi_create_buffer_copy(env, blob.len, blob.data, &copy, &result);
      break;
    }
    case kTagNumber: {
      uint64_t bits = 0;
      if (blob.len == 8) bits = loadLE64(blob.data);
      napi_create_double(env, bitsToF64(bits), &result);
      break;
    }
    case kTagBigInt:
      result = bigIntFromBlob(env, blob);
      break;
    case kTagFalse:
    case kTagTrue:
      napi_get_boolean(env, blob.tag == kTagTrue, &result);
      break;
    case kTagUndefined:
      napi_get_undefined(env, &result);
      break;
    case kTagNull:
      napi_get_null(env, &result);
      break;
    case kTagObjectRef: {
      uint64_t id = blob.len == 8 ? loadLE64(blob.data) : 0;
      napi_value idValue = nullptr;
      napi_create_array_with_length(env, 1, &result);
      napi_create_double(env, static_cast<double>(id), &idValue);
      napi_set_element(env, result, 0, idValue);
      break;
    }
    default:
      napi_get_undefined(env, &result);
      break;
  }
  if (result == nullptr && !exceptionPending(env)) {
    throwRangeError(env, "GoMap could not create a JavaScript value of " + std::to_string(blob.len) +
                             " bytes (out of memory, or longer than the engine allows)");
  }
  return result;
}

}  // namespace gomap::addon

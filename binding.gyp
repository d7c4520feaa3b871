# gomap — node-gyp build of the Node-API addon (what `npm ci` / `npm install` run
# through node-gyp-build when no prebuild matches). It builds the same sources as
# CMakeLists.txt (GOMAP_CORE_SOURCES + GOMAP_ADDON_SOURCES);
# test/build-files.test.ts checks that the two lists agree.
{
  'variables': {
    'gomap_core_sources': [
      'native/core/hash.cc',
      'native/core/random.cc',
      'native/core/alloc.cc',
      'native/core/concurrent_map.cc',
      'native/core/epoch.cc',
      'native/core/shared_cache.cc',
    ],
    'gomap_addon_sources': [
      'native/addon/addon.cc',
      'native/addon/addon_state.cc',
      'native/addon/errors.cc',
      'native/addon/functions.cc',
      'native/addon/js_string.cc',
      'native/addon/key_codec.cc',
      'native/addon/map_factory_blob.cc',
      'native/addon/map_factory_word.cc',
      'native/addon/packed.cc',
      'native/addon/sync_env.cc',
      'native/addon/sync_functions.cc',
      'native/addon/sync_registry.cc',
      'native/addon/sync_codec.cc',
      'native/addon/testing.cc',
      'native/addon/cache_factory.cc',
      'native/addon/cache_functions.cc',
      'native/addon/shared_cache_functions.cc',
    ],
  },
  'targets': [
    {
      'target_name': 'gomap',
      'sources': [
        '<@(gomap_core_sources)',
        '<@(gomap_addon_sources)',
      ],
      'include_dirs': [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        'native',
      ],
      'defines': [
        'NAPI_VERSION=8',
        'NAPI_CPP_EXCEPTIONS',
      ],
      'cflags!': ['-fno-exceptions'],
      'cflags_cc!': ['-fno-exceptions', '-fno-rtti', '-std=gnu++17'],
      'cflags': ['-O3', '-fvisibility=hidden'],
      'cflags_cc': ['-std=c++17', '-O3', '-fexceptions', '-frtti'],
      'ldflags': ['-pthread'],
      'xcode_settings': {
        'GCC_ENABLE_CPP_EXCEPTIONS': 'YES',
        'GCC_ENABLE_CPP_RTTI': 'YES',
        'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
        'CLANG_CXX_LIBRARY': 'libc++',
        'MACOSX_DEPLOYMENT_TARGET': '10.15',
        'GCC_OPTIMIZATION_LEVEL': '3',
      },
      'msvs_settings': {
        'VCCLCompilerTool': {
          'ExceptionHandling': 1,
          'AdditionalOptions': ['/std:c++17'],
        },
      },
    },
  ],
}

# The native backend's addon (src/backend/native/ loads it with node-gyp-build).
# Built here, apart from the repository's build/ (the WebAssembly kernels live there):
#   node-gyp rebuild --directory native   ->  native/build/Release/convnet_native.node
# The kernels are compiled three times, each unit with its own instruction-set flags, and the addon
# picks one at load time with cpuid (AVX-512F, AVX2+FMA, portable).
{
  "variables": {
    "cn_cflags": ["-O3", "-fPIC", "-std=c++17", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off", "-Wno-unused-function"]
  },
  "targets": [
    {
      "target_name": "cn_avx512",
      "type": "static_library",
      "sources": ["src/kernels_avx512.cc"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "conditions": [
        ["target_arch=='x64' or target_arch=='ia32'", {
          "cflags_cc": ["<@(cn_cflags)", "-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx512bw", "-mavx2", "-mfma"]
        }, {
          "cflags_cc": ["<@(cn_cflags)"]
        }]
      ]
    },
    {
      "target_name": "cn_avx2",
      "type": "static_library",
      "sources": ["src/kernels_avx2.cc"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "conditions": [
        ["target_arch=='x64' or target_arch=='ia32'", {
          "cflags_cc": ["<@(cn_cflags)", "-mavx2", "-mfma"]
        }, {
          "cflags_cc": ["<@(cn_cflags)"]
        }]
      ]
    },
    {
      "target_name": "cn_generic",
      "type": "static_library",
      "sources": ["src/kernels_generic.cc"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["<@(cn_cflags)"]
    },
    {
      "target_name": "convnet_native",
      "sources": ["src/addon.cc"],
      "dependencies": ["cn_avx512", "cn_avx2", "cn_generic"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["<@(cn_cflags)"],
      "ldflags": ["-pthread"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}

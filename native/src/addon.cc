// Node-API glue of the native backend: takes the heap's base address once (a shared
// WebAssembly.Memory never moves when it grows), keeps a parameter block (a Float64Array the
// TypeScript side fills before each call), picks the instruction set at load time with cpuid, and
// runs kernels on a pool of std::threads. Calls are synchronous: the calling thread computes parts
// too and returns when every part is done.
//
// Written against Node-API's C interface only (node_api.h), so the addon needs no other dependency
// and one binary serves every Node version with Node-API 8.
#include <node_api.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include "common.h"

namespace cn {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// ---- per-environment state ------------------------------------------------------------------------
// Each Node environment (the main thread, every worker thread that loads the addon) has its own heap,
// parameter block, pool and scratch. Kernels reach them through `tl_state`, which the calling thread
// sets in run() and each pool thread sets once when it starts.

class Pool;
struct Scratch { float* p = nullptr; size_t n = 0; };
// One per backend object: its parameter block and instruction set.
struct Slot { double* params; napi_ref ref; RunFn run; };
struct State {
  uint8_t* base = nullptr;
  napi_ref heapRef = nullptr;
  std::vector<Slot> slots;
  RunFn run = nullptr;
  const char* isa = "portable";
  Pool* pool = nullptr;
  int callThreads = 1;  // the threads of the call in progress (each backend object keeps its own count)
  Scratch scratch[128];
};
thread_local State* tl_state = nullptr;

// ---- thread pool ----------------------------------------------------------------------------------

class Pool {
 public:
  explicit Pool(State* owner) : owner_(owner) {}
  ~Pool() { shutdown(); }

  int threads() const { return (int)workers_.size() + 1; }

  void set_threads(int n) {
    n = std::max(1, std::min(n, 64));
    while ((int)workers_.size() < n - 1) {
      const int idx = (int)workers_.size();
      // The generation the thread starts from is read here, not in the thread: a shutdown that comes
      // before the thread runs must still wake it.
      const uint64_t g = gen_.load();
      workers_.emplace_back([this, idx, g] { loop(idx, g); });
    }
  }

  void run(int parts, int active, const std::function<void(int)>& fn) {
    if (parts <= 1 || active <= 1) {
      for (int i = 0; i < parts; i++) fn(i);
      return;
    }
    // Close the previous job's claims first, so a late worker cannot claim a part of this one twice.
    next_.store(1 << 30);
    job_.store(&fn);
    nparts_.store(parts);
    done_.store(0);
    active_.store(active);
    next_.store(0);
    {
      std::lock_guard<std::mutex> lk(mu_);
      gen_.fetch_add(1);
    }
    cv_.notify_all();
    work();
    // Spin briefly (parts usually end together), then sleep until the last part is done: on a
    // machine with more runnable threads than cores, spinning would burn the CPU the worker needs.
    for (int spins = 0; done_.load() < parts && spins < 4000; spins++) cpu_relax();
    if (done_.load() < parts) {
      std::unique_lock<std::mutex> lk(doneMu_);
      while (done_.load() < parts) doneCv_.wait_for(lk, std::chrono::milliseconds(1));
    }
    job_.store(nullptr);
  }

  void shutdown() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_.store(true);
      gen_.fetch_add(1);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

 private:
  void work() {
    for (;;) {
      const int p = next_.fetch_add(1);
      if (p >= nparts_.load()) break;
      (*job_.load())(p);
      if (done_.fetch_add(1) + 1 == nparts_.load()) {
        std::lock_guard<std::mutex> lk(doneMu_);
        doneCv_.notify_one();
      }
    }
  }

  void loop(int idx, uint64_t seen) {
    tl_state = owner_;
    for (;;) {
      // Spin a little (back-to-back calls in a training step), then sleep until the next job.
      int spins = 0;
      while (gen_.load() == seen && !stop_.load() && spins < 4000) { cpu_relax(); spins++; }
      if (gen_.load() == seen && !stop_.load()) {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return gen_.load() != seen || stop_.load(); });
      }
      seen = gen_.load();
      if (stop_.load()) return;
      if (idx < active_.load() - 1) work();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mu_, doneMu_;
  std::condition_variable cv_, doneCv_;
  std::atomic<uint64_t> gen_{0};
  std::atomic<int> next_{1 << 30}, nparts_{0}, done_{0};
  std::atomic<const std::function<void(int)>*> job_{nullptr};
  State* owner_;
  std::atomic<int> active_{1};
  std::atomic<bool> stop_{false};
};

void pick_isa(State* st, const std::string& want) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if ((want.empty() || want == "avx512") && avx512) { st->run = run_avx512; st->isa = "avx512"; return; }
  if ((want.empty() || want == "avx512" || want == "avx2") && avx2) { st->run = run_avx2; st->isa = "avx2"; return; }
#endif
  (void)want;
  st->run = run_generic;
  st->isa = "portable";
}

// ---- Node-API functions ---------------------------------------------------------------------------

#define NAPI_OK(call) do { if ((call) != napi_ok) { napi_throw_error(env, nullptr, "convnet native: Node-API call failed: " #call); return nullptr; } } while (0)

napi_value make_string(napi_env env, const char* s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

napi_value make_number(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

// init(heapView: Uint8Array over the heap's buffer, params: Float64Array, isa?: string) -> "<isa> <slot>".
// Each backend object calls it once with its own parameter block.
State* state(napi_env env) {
  void* d = nullptr;
  napi_get_instance_data(env, &d);
  return (State*)d;
}

napi_value Init(napi_env env, napi_callback_info info) {
  State* st = state(env);
  size_t argc = 3;
  napi_value argv[3];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 2) { napi_throw_type_error(env, nullptr, "convnet native: init(heapView, params) expects two typed arrays"); return nullptr; }
  bool isTa = false;
  napi_is_typedarray(env, argv[0], &isTa);
  if (!isTa) { napi_throw_type_error(env, nullptr, "convnet native: init: heapView must be a Uint8Array over the heap"); return nullptr; }
  napi_typedarray_type type;
  size_t length, offset;
  void* data = nullptr;
  napi_value ab;
  NAPI_OK(napi_get_typedarray_info(env, argv[0], &type, &length, &data, &ab, &offset));
  if (!data) { napi_throw_error(env, nullptr, "convnet native: init: the heap's backing store has no address"); return nullptr; }
  st->base = (uint8_t*)data - offset;
  if (st->heapRef) napi_delete_reference(env, st->heapRef);
  NAPI_OK(napi_create_reference(env, argv[0], 1, &st->heapRef));
  napi_is_typedarray(env, argv[1], &isTa);
  if (!isTa) { napi_throw_type_error(env, nullptr, "convnet native: init: params must be a Float64Array"); return nullptr; }
  void* pdata = nullptr;
  NAPI_OK(napi_get_typedarray_info(env, argv[1], &type, &length, &pdata, &ab, &offset));
  if (type != napi_float64_array || length < (size_t)slot::NativeBlock::SLOTS) {
    const std::string msg = "convnet native: init: params must be a Float64Array of at least " + std::to_string(slot::NativeBlock::SLOTS) + " elements";
    napi_throw_type_error(env, nullptr, msg.c_str());
    return nullptr;
  }
  napi_ref pref;
  NAPI_OK(napi_create_reference(env, argv[1], 1, &pref));
  std::string want;
  if (argc >= 3) {
    napi_valuetype vt;
    napi_typeof(env, argv[2], &vt);
    if (vt == napi_string) {
      char buf[32] = {0};
      size_t n = 0;
      napi_get_value_string_utf8(env, argv[2], buf, sizeof buf, &n);
      want = buf;
    }
  }
  pick_isa(st, want);
  if (!st->pool) st->pool = new Pool(st);
  st->slots.push_back(Slot{(double*)pdata, pref, st->run});
  // "<isa> <slot>": the instruction set picked and the slot run() takes.
  return make_string(env, (std::string(st->isa) + " " + std::to_string(st->slots.size() - 1)).c_str());
}

// run(kernelId, slot, threads) -> 0, or throws when the id is unknown. slot: what init returned for
// this backend object; threads: at most what setThreads started.
napi_value Run(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t id = -1, slot = -1, nth = 1;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &id) != napi_ok || napi_get_value_int32(env, argv[1], &slot) != napi_ok ||
      napi_get_value_int32(env, argv[2], &nth) != napi_ok) {
    napi_throw_type_error(env, nullptr, "convnet native: run(id, isa, threads) expects three integers");
    return nullptr;
  }
  State* st = state(env);
  if (!st->base || !st->pool) { napi_throw_error(env, nullptr, "convnet native: run before init"); return nullptr; }
  if (slot < 0 || slot >= (int)st->slots.size()) { napi_throw_range_error(env, nullptr, "convnet native: run: unknown slot"); return nullptr; }
  const Slot& s = st->slots[slot];
  tl_state = st;
  st->callThreads = std::max(1, std::min(nth, st->pool->threads()));
  const int rc = s.run(id, s.params, st->base);
  if (rc != 0) { napi_throw_error(env, nullptr, (std::string("convnet native: kernel ") + std::to_string(id) + " refused its parameters").c_str()); return nullptr; }
  return make_number(env, 0);
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t n = 1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) { napi_throw_range_error(env, nullptr, "convnet native: setThreads expects a positive integer"); return nullptr; }
  State* st = state(env);
  if (!st->pool) st->pool = new Pool(st);
  st->pool->set_threads(n);
  return make_number(env, std::min(n, 64));
}

napi_value Threads(napi_env env, napi_callback_info) { State* st = state(env); return make_number(env, st->pool ? st->pool->threads() : 1); }
napi_value Isa(napi_env env, napi_callback_info) { return make_string(env, state(env)->isa); }
// The hash of the parameter layouts this addon was built with (params.h); the TypeScript side refuses another.
napi_value Layout(napi_env env, napi_callback_info) { return make_number(env, (double)PARAMS_LAYOUT); }

// The instruction sets this CPU can run, most capable first.
napi_value Supported(napi_env env, napi_callback_info) {
  std::string s;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) s += "avx512,";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) s += "avx2,";
#endif
  s += "portable";
  return make_string(env, s.c_str());
}

void Finalize(napi_env, void* data, void*) {
  State* st = (State*)data;
  if (st->pool) { st->pool->shutdown(); delete st->pool; }
  for (auto& s : st->scratch) std::free(s.p);
  delete st;
}

napi_value ModuleInit(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
    {"init", nullptr, Init, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"run", nullptr, Run, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"threads", nullptr, Threads, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"isa", nullptr, Isa, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"layout", nullptr, Layout, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"supported", nullptr, Supported, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_set_instance_data(env, new State(), Finalize, nullptr);
  return exports;
}

}  // namespace

thread_local bool tl_in_parallel = false;

void parallel(int parts, const std::function<void(int)>& fn) {
  Pool* pool = tl_state ? tl_state->pool : nullptr;
  // Nested calls (a part that itself asks for parts) run inline.
  if (!pool || tl_in_parallel) { for (int i = 0; i < parts; i++) fn(i); return; }
  tl_in_parallel = true;
  pool->run(parts, tl_state->callThreads, [&](int p) {
    const bool was = tl_in_parallel;
    tl_in_parallel = true;
    fn(p);
    tl_in_parallel = was;
  });
  tl_in_parallel = false;
}

int threads() { return tl_state ? tl_state->callThreads : 1; }

float* scratch(int slot, size_t floats) {
  Scratch& s = tl_state->scratch[slot];
  if (floats > s.n) {
    std::free(s.p);
    const size_t n = (floats + floats / 4 + 1023) & ~size_t(1023);
    s.p = (float*)std::aligned_alloc(64, n * sizeof(float));
    if (!s.p) { s.n = 0; std::abort(); }
    s.n = n;
  }
  return s.p;
}

}  // namespace cn

NAPI_MODULE_INIT() { return cn::ModuleInit(env, exports); }

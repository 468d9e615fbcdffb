// RingReader: a native thread drains a BPF ring buffer on a timer and hands batches
// of framed records to JS through a thread-safe function, without ever blocking.
// Producers use BPF_RB_NO_WAKEUP, so this must be ring_buffer__consume on a timer:
// ring_buffer__poll only processes rings epoll reports ready, and with NO_WAKEUP it
// delivered nothing at all (measured: 0 records/s, all lost to a full ring).
#include <string.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common.h"

namespace kotel {

// State shared with the TSFN callbacks; outlives the reader if batches are still
// queued when it is destroyed (freed by the TSFN finalizer).
struct Shared {
  std::atomic<bool> closed{false};
  std::atomic<uint32_t> queued{0};
  std::atomic<uint64_t> records{0}, batches{0}, bytes{0}, droppedRecords{0}, droppedBatches{0};
};

struct Batch {
  uint8_t* data = nullptr;
  size_t len = 0, cap = 0;
  uint32_t count = 0;
};

static void FreeBatch(Batch* b) {
  if (!b) return;
  free(b->data);
  delete b;
}

class RingReader : public Napi::ObjectWrap<RingReader> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RingReader",
                       {
                           InstanceMethod<&RingReader::Stats>("stats"),
                           InstanceMethod<&RingReader::Close>("close"),
                           InstanceMethod<&RingReader::RefJs>("ref"),
                           InstanceMethod<&RingReader::UnrefJs>("unref"),
                           InstanceAccessor<&RingReader::GetClosed>("closed"),
                       });
  }

  RingReader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RingReader>(info), env_(info.Env()) {
    Napi::Env env = info.Env();
    shared_ = std::make_shared<Shared>();
    bpf_map* map = nullptr;
    if (!UnwrapMap(env, info[0], &st_, &map)) return;
    name_ = std::string(bpf_map__name(map));
    std::string op = "ringReader:" + name_;
    if (!info[1].IsFunction()) {
      ThrowPlain(env, op, "RingReader(map, onBatch, opts): onBatch must be a function");
      return;
    }
    if (info.Length() > 2 && info[2].IsObject()) {
      Napi::Object o = info[2].As<Napi::Object>();
      if (o.Get("intervalMs").IsNumber()) intervalMs_ = o.Get("intervalMs").As<Napi::Number>().Uint32Value();
      if (o.Get("maxQueuedBatches").IsNumber())
        maxQueued_ = o.Get("maxQueuedBatches").As<Napi::Number>().Uint32Value();
      if (o.Get("maxBatchBytes").IsNumber())
        maxBatchBytes_ = (size_t)o.Get("maxBatchBytes").As<Napi::Number>().Int64Value();
    }
    if (intervalMs_ < 1) intervalMs_ = 1;
    if (maxQueued_ < 1) maxQueued_ = 1;
    if (maxBatchBytes_ < 64) maxBatchBytes_ = 64;
    if (st_->closed()) {
      ThrowPlain(env, op, "RingReader " + name_ + ": the BpfObject is closed", EBADF);
      return;
    }
    if (bpf_map__type(map) != BPF_MAP_TYPE_RINGBUF) {
      ThrowPlain(env, op, "RingReader: map " + st_->name + "/" + name_ + " is not a BPF_MAP_TYPE_RINGBUF", EINVAL);
      return;
    }
    int fd = bpf_map__fd(map);
    if (fd < 0) {
      ThrowPlain(env, op, "RingReader " + name_ + ": the BpfObject is not loaded; call load() first", EBADFD);
      return;
    }
    {
      LogScope scope(&st_->log);
      errno = 0;
      rb_ = ring_buffer__new(fd, &RingReader::OnSample, this, nullptr);
      if (!rb_) {
        ThrowBpfError(env, op, "RingReader " + st_->name + "/" + name_, errno ? errno : EINVAL, st_->log.Tail());
        return;
      }
    }
    auto* ctx = new std::shared_ptr<Shared>(shared_);
    napi_status s = napi_create_threadsafe_function(
        env, info[1], nullptr, Napi::String::New(env, "kotel.RingReader"), 0 /* we bound the queue */, 1, ctx,
        [](napi_env, void* data, void*) { delete static_cast<std::shared_ptr<Shared>*>(data); }, ctx,
        &RingReader::CallJs, &tsfn_);
    if (s != napi_ok) {
      delete ctx;
      ring_buffer__free(rb_);
      rb_ = nullptr;
      ThrowPlain(env, op, "RingReader: napi_create_threadsafe_function failed", ENOMEM);
      return;
    }
    // Registered after the TSFN, so it runs before the TSFN's own teardown hook
    // (hooks run in reverse order): the thread is joined while the TSFN exists.
    napi_add_env_cleanup_hook(env, &RingReader::EnvTeardown, this);
    st_->readers.insert(this);
    Ref();  // keep the wrapper alive while running, even if JS drops it
    running_ = true;
    thread_ = std::thread([this] { Run(); });
  }

  ~RingReader() override { Stop(false); }

  // Called from ObjState::Close (main thread).
  void StopForClose() { Stop(false); }

 private:
  Napi::Env env_;
  std::shared_ptr<ObjState> st_;
  std::shared_ptr<Shared> shared_;
  std::string name_;
  ring_buffer* rb_ = nullptr;
  napi_threadsafe_function tsfn_ = nullptr;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  bool running_ = false;  // main thread only
  uint32_t intervalMs_ = 5;
  uint32_t maxQueued_ = 64;
  size_t maxBatchBytes_ = 1 << 20;
  Batch* cur_ = nullptr;  // worker thread only
  size_t lastLen_ = 0;     // worker thread only: bytes of the last batch sent

  static void EnvTeardown(void* arg) { static_cast<RingReader*>(arg)->Stop(true); }

  void Stop(bool teardown) {
    if (!running_) return;
    running_ = false;
    shared_->closed = true;  // queued batches are discarded, not delivered
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();  // never blocks on JS: only NonBlockingCall
    ring_buffer__free(rb_);
    rb_ = nullptr;
    FreeBatch(cur_);
    cur_ = nullptr;
    if (st_) st_->readers.erase(this);
    if (!teardown) {
      // During env teardown Node disposes the TSFN itself.
      napi_remove_env_cleanup_hook(env_, &RingReader::EnvTeardown, this);
      napi_release_threadsafe_function(tsfn_, napi_tsfn_release);
      Unref();
    }
    tsfn_ = nullptr;
  }

  void Run() {
    auto interval = std::chrono::milliseconds(intervalMs_);
    while (!stop_.load(std::memory_order_relaxed)) {
      ring_buffer__consume(rb_);  // a negative result here only means stop was requested
      Flush();
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait_for(lk, interval, [this] { return stop_.load(); });
    }
  }

  static int OnSample(void* ctx, void* data, size_t size) {
    auto* self = static_cast<RingReader*>(ctx);
    if (self->stop_.load(std::memory_order_relaxed)) return -ECANCELED;  // prompt close during a flood
    return self->Append(static_cast<const uint8_t*>(data), size);
  }

  // Frame: [u32 length][payload][zero pad to 8].
  int Append(const uint8_t* data, size_t size) {
    size_t rec = (4 + size + 7) & ~(size_t)7;
    if (cur_ && cur_->count > 0 && cur_->len + rec > maxBatchBytes_) Flush();
    if (!cur_) cur_ = new Batch();
    if (cur_->len + rec > cur_->cap) {
      // A new batch starts at about what the last one needed: growing by doubling copied every
      // record once more (realloc) for a batch of a few hundred KB.
      size_t cap = cur_->cap ? cur_->cap * 2 : std::max<size_t>(64 * 1024, lastLen_ + lastLen_ / 4);
      if (cap > maxBatchBytes_) cap = maxBatchBytes_;
      if (cap < cur_->len + rec) cap = cur_->len + rec;  // one record larger than a batch
      uint8_t* p = (uint8_t*)realloc(cur_->data, cap);
      if (!p) {
        shared_->droppedRecords++;
        return 0;
      }
      cur_->data = p;
      cur_->cap = cap;
    }
    uint8_t* w = cur_->data + cur_->len;
    uint32_t len32 = (uint32_t)size;
    memcpy(w, &len32, 4);
    memcpy(w + 4, data, size);
    memset(w + 4 + size, 0, rec - 4 - size);
    cur_->len += rec;
    cur_->count++;
    return 0;
  }

  void Flush() {
    if (!cur_ || cur_->count == 0) return;
    bool sent = false;
    if (shared_->queued.load() < maxQueued_) {
      shared_->queued++;
      if (napi_call_threadsafe_function(tsfn_, cur_, napi_tsfn_nonblocking) == napi_ok) {
        sent = true;
      } else {
        shared_->queued--;
      }
    }
    if (sent) {
      lastLen_ = cur_->len;
      cur_ = nullptr;
      return;
    }
    // JS is behind: drop this batch, count it, keep the memory for the next one.
    shared_->droppedBatches++;
    shared_->droppedRecords += cur_->count;
    cur_->len = 0;
    cur_->count = 0;
  }

  // Main thread. env is null when the TSFN is being torn down with items queued.
  static void CallJs(napi_env env, napi_value cb, void* context, void* data) {
    Shared* sh = static_cast<std::shared_ptr<Shared>*>(context)->get();
    Batch* b = static_cast<Batch*>(data);
    sh->queued--;
    if (env == nullptr || cb == nullptr || sh->closed.load()) {
      sh->droppedBatches++;
      sh->droppedRecords += b->count;
      FreeBatch(b);
      return;
    }
    napi_value buf;
    // Hand the batch memory to JS without a copy; freed when the Buffer is collected.
    napi_status s = napi_create_external_buffer(
        env, b->len, b->data, [](napi_env, void* d, void*) { free(d); }, nullptr, &buf);
    if (s != napi_ok) {
      void* copy;
      s = napi_create_buffer_copy(env, b->len, b->data, &copy, &buf);
      free(b->data);
      if (s != napi_ok) {
        delete b;
        return;
      }
    }
    uint32_t count = b->count;
    size_t len = b->len;
    delete b;  // data now owned by the Buffer
    sh->records += count;
    sh->batches++;
    sh->bytes += len;
    napi_value argv[2], undef;
    napi_create_uint32(env, count, &argv[1]);
    argv[0] = buf;
    napi_get_undefined(env, &undef);
    // An exception thrown by onBatch surfaces as an uncaught exception.
    napi_call_function(env, undef, cb, 2, argv, nullptr);
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("records", (double)shared_->records.load());
    o.Set("batches", (double)shared_->batches.load());
    o.Set("bytes", (double)shared_->bytes.load());
    o.Set("droppedRecords", (double)shared_->droppedRecords.load());
    o.Set("droppedBatches", (double)shared_->droppedBatches.load());
    o.Set("queuedBatches", shared_->queued.load());
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Stop(false);
    return info.Env().Undefined();
  }

  Napi::Value RefJs(const Napi::CallbackInfo& info) {
    if (running_) napi_ref_threadsafe_function(info.Env(), tsfn_);
    return info.Env().Undefined();
  }

  Napi::Value UnrefJs(const Napi::CallbackInfo& info) {
    if (running_) napi_unref_threadsafe_function(info.Env(), tsfn_);
    return info.Env().Undefined();
  }

  Napi::Value GetClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !running_); }
};

void StopReaderForClose(RingReader* r) { r->StopForClose(); }

Napi::Object InitRingReader(Napi::Env env, Napi::Object exports) {
  exports.Set("RingReader", RingReader::Define(env));
  return exports;
}

}  // namespace kotel

// The JNI bridge an Android app loads (libterra_jni.so): org.terra.Terra's native methods over
// the C API (terra.h) and nothing else, so the same code runs on a phone and on a desktop JDK.
// Handles are the C API's pointers as Java longs; errors become org.terra.TerraException with
// terra_last_error()'s message.
#include <jni.h>

#include <string>
#include <vector>

#include "terra.h"

namespace {

// A session and the flag Terra.Session.stop() sets from any thread.
struct JniSession {
  terra_session* session = nullptr;
  int stop = 0;  // read with __atomic_load_n by terra_generate
};

void throw_terra(JNIEnv* env, terra_status status, const char* message) {
  jclass cls = env->FindClass("org/terra/TerraException");
  if (cls == nullptr) return;  // NoClassDefFoundError is already pending
  jmethodID ctor = env->GetMethodID(cls, "<init>", "(ILjava/lang/String;)V");
  jstring text = env->NewStringUTF(message);
  if (ctor == nullptr || text == nullptr) return;
  jobject error = env->NewObject(cls, ctor, jint(status), text);
  if (error != nullptr) env->Throw(static_cast<jthrowable>(error));
}

// True when status is TERRA_OK; else throws and returns false.
bool check(JNIEnv* env, terra_status status) {
  if (status == TERRA_OK) return true;
  throw_terra(env, status, terra_last_error());
  return false;
}

// A Java string as UTF-8 (standard, not JNI's modified UTF-8): through String.getBytes.
bool utf8(JNIEnv* env, jstring s, std::string* out) {
  jclass string_class = env->FindClass("java/lang/String");
  jmethodID get_bytes = env->GetMethodID(string_class, "getBytes", "(Ljava/lang/String;)[B");
  jstring charset = env->NewStringUTF("UTF-8");
  auto bytes = static_cast<jbyteArray>(env->CallObjectMethod(s, get_bytes, charset));
  if (bytes == nullptr || env->ExceptionCheck()) return false;
  const jsize n = env->GetArrayLength(bytes);
  out->resize(size_t(n));
  env->GetByteArrayRegion(bytes, 0, n, reinterpret_cast<jbyte*>(&(*out)[0]));
  return true;
}

const terra_model* model_of(jlong h) { return reinterpret_cast<const terra_model*>(h); }
JniSession* session_of(jlong h) { return reinterpret_cast<JniSession*>(h); }

// Per-token delivery to the Java session object: its deliver(int, byte[]) decodes the text.
struct Delivery {
  JNIEnv* env;
  jobject target;
  jmethodID deliver;
};

int deliver(void* user, int32_t token, const char* text, size_t length) {
  auto* d = static_cast<Delivery*>(user);
  jbyteArray bytes = d->env->NewByteArray(jsize(length));
  if (bytes == nullptr) return 1;
  d->env->SetByteArrayRegion(bytes, 0, jsize(length), reinterpret_cast<const jbyte*>(text));
  const jboolean go_on = d->env->CallBooleanMethod(d->target, d->deliver, jint(token), bytes);
  d->env->DeleteLocalRef(bytes);
  return d->env->ExceptionCheck() || !go_on;  // a listener's exception stops generation, then propagates
}

}  // namespace

extern "C" {

JNIEXPORT jstring JNICALL Java_org_terra_Terra_version(JNIEnv* env, jclass) {
  return env->NewStringUTF(terra_version());
}

JNIEXPORT jlong JNICALL Java_org_terra_Terra_modelLoad(JNIEnv* env, jclass, jstring path) {
  std::string p;
  if (path == nullptr) return check(env, terra_model_load(nullptr, nullptr)), 0;
  if (!utf8(env, path, &p)) return 0;
  terra_model* model = nullptr;
  return check(env, terra_model_load(p.c_str(), &model)) ? reinterpret_cast<jlong>(model) : 0;
}

JNIEXPORT jlong JNICALL Java_org_terra_Terra_modelLoadFd(JNIEnv* env, jclass, jint fd, jlong offset, jlong size) {
  terra_model* model = nullptr;
  return check(env, terra_model_load_fd(fd, offset, size, &model)) ? reinterpret_cast<jlong>(model) : 0;
}

JNIEXPORT void JNICALL Java_org_terra_Terra_modelFree(JNIEnv*, jclass, jlong model) {
  terra_model_free(reinterpret_cast<terra_model*>(model));
}

JNIEXPORT jint JNICALL Java_org_terra_Terra_modelVocabSize(JNIEnv*, jclass, jlong model) {
  return terra_model_vocab_size(model_of(model));
}

JNIEXPORT jintArray JNICALL Java_org_terra_Terra_tokenize(JNIEnv* env, jclass, jlong model, jstring text) {
  std::string t;
  if (text == nullptr || !utf8(env, text, &t)) return nullptr;
  size_t count = 0;
  terra_status s = terra_tokenize(model_of(model), t.c_str(), nullptr, 0, &count);
  if (s != TERRA_OK && s != TERRA_ERROR_OUT_OF_RANGE) return check(env, s), nullptr;
  std::vector<int32_t> ids(count);
  if (!check(env, terra_tokenize(model_of(model), t.c_str(), ids.data(), ids.size(), &count))) return nullptr;
  jintArray out = env->NewIntArray(jsize(count));
  if (out != nullptr) env->SetIntArrayRegion(out, 0, jsize(count), reinterpret_cast<const jint*>(ids.data()));
  return out;
}

JNIEXPORT jbyteArray JNICALL Java_org_terra_Terra_detokenize(JNIEnv* env, jclass, jlong model, jintArray ids) {
  if (ids == nullptr) return nullptr;
  std::vector<int32_t> v(size_t(env->GetArrayLength(ids)));
  env->GetIntArrayRegion(ids, 0, jsize(v.size()), reinterpret_cast<jint*>(v.data()));
  size_t length = 0;
  terra_status s = terra_detokenize(model_of(model), v.data(), v.size(), nullptr, 0, &length);
  if (s != TERRA_OK && s != TERRA_ERROR_OUT_OF_RANGE) return check(env, s), nullptr;
  std::string text(length + 1, '\0');
  if (!check(env, terra_detokenize(model_of(model), v.data(), v.size(), &text[0], text.size(), &length))) return nullptr;
  jbyteArray out = env->NewByteArray(jsize(length));
  if (out != nullptr) env->SetByteArrayRegion(out, 0, jsize(length), reinterpret_cast<const jbyte*>(text.data()));
  return out;
}

JNIEXPORT jlong JNICALL Java_org_terra_Terra_sessionCreate(JNIEnv* env, jclass, jlong model, jint threads,
                                                           jint max_context, jboolean pin) {
  terra_session_options o = terra_session_default_options();
  o.threads = threads;
  o.max_context = max_context;
  o.pin_threads = pin ? 1 : 0;
  auto* s = new JniSession();
  if (!check(env, terra_session_create(model_of(model), &o, &s->session))) {
    delete s;
    return 0;
  }
  return reinterpret_cast<jlong>(s);
}

JNIEXPORT void JNICALL Java_org_terra_Terra_sessionFree(JNIEnv*, jclass, jlong session) {
  JniSession* s = session_of(session);
  if (s == nullptr) return;
  terra_session_free(s->session);
  delete s;
}

JNIEXPORT void JNICALL Java_org_terra_Terra_sessionStop(JNIEnv*, jclass, jlong session) {
  if (session != 0) __atomic_store_n(&session_of(session)->stop, 1, __ATOMIC_RELEASE);
}

// Generates from prompt, calling target.deliver(int token, byte[] text) per token; returns the
// number of tokens generated.
JNIEXPORT jint JNICALL Java_org_terra_Terra_generate(JNIEnv* env, jclass, jlong session, jstring prompt, jint max_tokens,
                                                     jfloat temperature, jint top_k, jfloat top_p, jlong seed,
                                                     jboolean stop_at_end, jobject target) {
  std::string p;
  if (prompt == nullptr || !utf8(env, prompt, &p)) return 0;
  JniSession* s = session_of(session);
  jclass cls = env->GetObjectClass(target);
  jmethodID method = env->GetMethodID(cls, "deliver", "(I[B)Z");
  if (method == nullptr) return 0;
  terra_generate_options o = terra_generate_default_options();
  o.max_tokens = max_tokens;
  o.sampling.temperature = temperature;
  o.sampling.top_k = top_k;
  o.sampling.top_p = top_p;
  o.sampling.seed = uint64_t(seed);
  o.stop_at_end = stop_at_end ? 1 : 0;
  __atomic_store_n(&s->stop, 0, __ATOMIC_RELEASE);
  o.stop = &s->stop;
  Delivery d{env, target, method};
  int generated = 0;
  const terra_status status = terra_generate(s->session, p.c_str(), &o, deliver, &d, &generated);
  if (env->ExceptionCheck()) return generated;  // the listener threw: let it propagate
  check(env, status);
  return generated;
}

}  // extern "C"

/* The C API's thread contract (terra.h, "Threads"), exercised: one model shared by sessions on
 * several threads at once, each generating with its own seed, while other threads tokenize and
 * create sessions on the same model and one thread stops another's generation through the stop
 * flag. Every thread's text must equal what the same session gives alone. Run natively and under
 * ThreadSanitizer (scripts/test.sh).
 * Usage: test_c_api_threads MODEL.terra */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "terra.h"

#define THREADS 4
#define TOKENS 24

static int failures = 0;
static pthread_mutex_t failures_lock = PTHREAD_MUTEX_INITIALIZER;
#define CHECK(cond)                                                               \
  do {                                                                            \
    if (!(cond)) {                                                                \
      fprintf(stderr, "%s:%d: check failed: %s (%s)\n", __FILE__, __LINE__, #cond, \
              terra_last_error());                                                \
      pthread_mutex_lock(&failures_lock);                                         \
      ++failures;                                                                 \
      pthread_mutex_unlock(&failures_lock);                                       \
    }                                                                             \
  } while (0)

typedef struct {
  char text[2048];
  size_t length;
  int count;
} Text;

static int collect(void* user, int32_t token, const char* text, size_t length) {
  Text* t = (Text*)user;
  (void)token;
  if (t->length + length < sizeof t->text) {
    memcpy(t->text + t->length, text, length);
    t->length += length;
    t->text[t->length] = '\0';
  }
  t->count++;
  return 0;
}

typedef struct {
  const terra_model* model;
  int index;
  int threads; /* compute threads of its session */
  Text alone;  /* what this generation gives with nothing else running */
  Text together;
} Job;

static void generate(const terra_model* model, int index, int threads, Text* out) {
  terra_session_options so = terra_session_default_options();
  so.threads = threads;
  so.max_context = 64;
  terra_session* session = NULL;
  CHECK(terra_session_create(model, &so, &session) == TERRA_OK);
  if (session == NULL) return;
  terra_generate_options go = terra_generate_default_options();
  go.max_tokens = TOKENS;
  go.stop_at_end = 0;
  go.sampling.seed = (uint64_t)(1000 + index);
  memset(out, 0, sizeof *out);
  CHECK(terra_generate(session, index % 2 ? "And God said" : "In the beginning", &go, collect, out, NULL) == TERRA_OK);
  CHECK(out->count == TOKENS);
  terra_session_free(session);
}

static void* generate_job(void* p) {
  Job* j = (Job*)p;
  generate(j->model, j->index, j->threads, &j->together);
  return NULL;
}

/* Tokenizes and detokenizes on the shared model while the sessions run. */
static void* tokenize_job(void* p) {
  const terra_model* model = (const terra_model*)p;
  for (int i = 0; i < 200; ++i) {
    int32_t ids[64];
    size_t count = 0;
    CHECK(terra_tokenize(model, "And the earth was without form, and void", ids, 64, &count) == TERRA_OK);
    char text[256];
    size_t length = 0;
    CHECK(terra_detokenize(model, ids, count, text, sizeof text, &length) == TERRA_OK);
    CHECK(strcmp(text, "And the earth was without form, and void") == 0);
    CHECK(terra_tokenize(model, NULL, ids, 64, &count) == TERRA_ERROR_INVALID_ARGUMENT); /* per-thread error */
    CHECK(strstr(terra_last_error(), "text is NULL") != NULL);
  }
  return NULL;
}

typedef struct {
  terra_session* session;
  int stop;
  int started; /* set (atomically) by its first token */
  Text text;
} StopJob;

static int collect_started(void* user, int32_t token, const char* text, size_t length) {
  StopJob* j = (StopJob*)user;
  __atomic_store_n(&j->started, 1, __ATOMIC_RELEASE);
  return collect(&j->text, token, text, length);
}

static void* stopped_job(void* p) {
  StopJob* j = (StopJob*)p;
  terra_generate_options go = terra_generate_default_options();
  go.max_tokens = 1000;
  go.stop_at_end = 0;
  go.stop = &j->stop;
  CHECK(terra_generate(j->session, "And", &go, collect_started, j, NULL) == TERRA_OK);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.terra\n", argv[0]);
    return 2;
  }
  terra_model* model = NULL;
  if (terra_model_load(argv[1], &model) != TERRA_OK) {
    fprintf(stderr, "%s\n", terra_last_error());
    return 1;
  }
  Job jobs[THREADS];
  for (int i = 0; i < THREADS; ++i) {
    jobs[i].model = model;
    jobs[i].index = i;
    jobs[i].threads = 1 + i % 2; /* sessions with a pool of 2 threads too */
    generate(model, i, jobs[i].threads, &jobs[i].alone);
  }

  pthread_t workers[THREADS], tokenizer;
  for (int i = 0; i < THREADS; ++i) pthread_create(&workers[i], NULL, generate_job, &jobs[i]);
  pthread_create(&tokenizer, NULL, tokenize_job, model);

  /* Meanwhile: a generation of 1,000 tokens on this model, stopped from this thread. */
  terra_session_options so = terra_session_default_options();
  so.max_context = 1100;
  StopJob stop_job;
  memset(&stop_job, 0, sizeof stop_job);
  CHECK(terra_session_create(model, &so, &stop_job.session) == TERRA_OK);
  pthread_t stopped;
  pthread_create(&stopped, NULL, stopped_job, &stop_job);
  struct timespec pause = {0, 1000 * 1000};
  for (int waited = 0; waited < 5000 && !__atomic_load_n(&stop_job.started, __ATOMIC_ACQUIRE); ++waited) {
    nanosleep(&pause, NULL);
  }
  __atomic_store_n(&stop_job.stop, 1, __ATOMIC_RELEASE);
  pthread_join(stopped, NULL);
  CHECK(stop_job.text.count >= 1);
  CHECK(stop_job.text.count < 1000);

  for (int i = 0; i < THREADS; ++i) pthread_join(workers[i], NULL);
  pthread_join(tokenizer, NULL);
  for (int i = 0; i < THREADS; ++i) {
    CHECK(jobs[i].together.count == TOKENS);
    CHECK(strcmp(jobs[i].alone.text, jobs[i].together.text) == 0);
    printf("thread %d (%d compute threads): %s\n", i, jobs[i].threads, jobs[i].together.text);
  }
  terra_session_free(stop_job.session);
  terra_model_free(model);
  if (failures) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf("stopped after %d tokens; C API threads: all checks passed\n", stop_job.text.count);
  return 0;
}

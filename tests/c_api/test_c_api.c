/* The C API as an app sees it: this file includes terra.h and nothing of the C++ runtime.
 * Usage: test_c_api MODEL.terra   (the shipped KJV model)
 * Prints the generated text; exits non-zero with a message on the first failed check. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "terra.h"

static int failures = 0;
#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                    \
    }                                                                \
  } while (0)

typedef struct {
  char text[4096];
  size_t length;
  int tokens[256];
  int count;
  int stop_after; /* set *stop once this many tokens arrived (0: never) */
  int* stop;
  int return_stop_after; /* return nonzero at this many (0: never) */
} Collected;

static int collect(void* user, int32_t token, const char* text, size_t length) {
  Collected* c = (Collected*)user;
  if (c->count < 256) c->tokens[c->count] = token;
  c->count++;
  if (c->length + length < sizeof c->text) {
    memcpy(c->text + c->length, text, length);
    c->length += length;
    c->text[c->length] = '\0';
  }
  if (c->stop_after && c->count == c->stop_after) *c->stop = 1;
  return c->return_stop_after && c->count == c->return_stop_after;
}

static int contains(const char* haystack, const char* needle) { return strstr(haystack, needle) != NULL; }

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.terra\n", argv[0]);
    return 2;
  }
  printf("terra %s\n", terra_version());

  /* Errors name the problem. */
  terra_model* none = (terra_model*)1;
  CHECK(terra_model_load("/no/such/model.terra", &none) == TERRA_ERROR_IO);
  CHECK(none == NULL);
  CHECK(contains(terra_last_error(), "/no/such/model.terra"));
  CHECK(terra_model_load(argv[0], &none) == TERRA_ERROR_CORRUPT_MODEL); /* this program is no model */
  CHECK(contains(terra_last_error(), "not a terra model file"));
  CHECK(terra_model_load(NULL, &none) == TERRA_ERROR_INVALID_ARGUMENT);
  CHECK(strcmp(terra_status_name(TERRA_ERROR_IO), "TERRA_ERROR_IO") == 0);

  terra_model* model = NULL;
  if (terra_model_load(argv[1], &model) != TERRA_OK) {
    fprintf(stderr, "load: %s\n", terra_last_error());
    return 1;
  }
  CHECK(terra_model_vocab_size(model) > 0);
  CHECK(!terra_model_has_encoder(model));

  /* Tokenize and back; the size query first. */
  const char* phrase = "In the beginning God created the heaven and the earth.";
  size_t needed = 0;
  CHECK(terra_tokenize(model, phrase, NULL, 0, &needed) == TERRA_ERROR_OUT_OF_RANGE);
  CHECK(needed > 0 && needed < 64);
  int32_t ids[64];
  size_t count = 0;
  CHECK(terra_tokenize(model, phrase, ids, 64, &count) == TERRA_OK);
  CHECK(count == needed);
  char back[256];
  size_t length = 0;
  CHECK(terra_detokenize(model, ids, count, back, sizeof back, &length) == TERRA_OK);
  CHECK(strcmp(back, phrase) == 0);
  CHECK(length == strlen(phrase));
  CHECK(terra_detokenize(model, ids, count, back, 4, &length) == TERRA_ERROR_OUT_OF_RANGE);
  int32_t bad = 1 << 30;
  CHECK(terra_detokenize(model, &bad, 1, back, sizeof back, &length) == TERRA_ERROR_INVALID_ARGUMENT);
  CHECK(contains(terra_last_error(), "outside the vocabulary"));

  terra_session_options so = terra_session_default_options();
  so.threads = 2;
  so.max_context = 128;
  terra_session* session = NULL;
  CHECK(terra_session_create(model, &so, &session) == TERRA_OK);
  if (session == NULL) return 1;
  CHECK(terra_session_max_context(session) == 128);
  CHECK(terra_session_memory_bytes(session) > 0);

  /* Greedy generation, printed; the same text twice. */
  terra_generate_options go = terra_generate_default_options();
  go.max_tokens = 40;
  go.sampling.temperature = 0;
  go.stop_at_end = 0;
  Collected a;
  memset(&a, 0, sizeof a);
  int generated = 0;
  CHECK(terra_generate(session, "And God said", &go, collect, &a, &generated) == TERRA_OK);
  CHECK(generated == 40 && a.count == 40);
  printf("generated: And God said%s\n", a.text);
  CHECK(a.length > 40);
  Collected again;
  memset(&again, 0, sizeof again);
  CHECK(terra_generate(session, "And God said", &go, collect, &again, NULL) == TERRA_OK);
  CHECK(strcmp(a.text, again.text) == 0);

  /* Greedy generation equals stepping by hand and taking the largest logit. */
  terra_session_reset(session);
  CHECK(terra_tokenize(model, "And God said", ids, 64, &count) == TERRA_OK);
  CHECK(terra_session_step(session, terra_model_start_token(model)) == TERRA_OK);
  for (size_t i = 0; i < count; ++i) CHECK(terra_session_step(session, ids[i]) == TERRA_OK);
  for (int n = 0; n < 8; ++n) {
    const float* logits = terra_session_logits(session);
    int best = 0;
    for (int v = 1; v < terra_model_vocab_size(model); ++v) {
      if (logits[v] > logits[best]) best = v;
    }
    CHECK(best == a.tokens[n]);
    CHECK(terra_session_step(session, best) == TERRA_OK);
  }
  CHECK(terra_session_position(session) == (int)count + 1 + 8);

  /* Sampling: a seed gives the same text, another seed (almost surely) another. */
  go.sampling.temperature = 1.0f;
  go.sampling.seed = 7;
  Collected s1, s2, s3;
  memset(&s1, 0, sizeof s1);
  memset(&s2, 0, sizeof s2);
  memset(&s3, 0, sizeof s3);
  CHECK(terra_generate(session, "And", &go, collect, &s1, NULL) == TERRA_OK);
  CHECK(terra_generate(session, "And", &go, collect, &s2, NULL) == TERRA_OK);
  go.sampling.seed = 8;
  CHECK(terra_generate(session, "And", &go, collect, &s3, NULL) == TERRA_OK);
  CHECK(memcmp(s1.tokens, s2.tokens, sizeof s1.tokens) == 0);
  CHECK(memcmp(s1.tokens, s3.tokens, sizeof s1.tokens) != 0);

  /* Stopping: the stop flag, and the callback's return value. */
  int stop = 0;
  Collected st;
  memset(&st, 0, sizeof st);
  st.stop = &stop;
  st.stop_after = 5;
  go.stop = &stop;
  CHECK(terra_generate(session, "And", &go, collect, &st, &generated) == TERRA_OK);
  CHECK(generated == 5 && st.count == 5);
  go.stop = NULL;
  memset(&st, 0, sizeof st);
  st.return_stop_after = 3;
  CHECK(terra_generate(session, "And", &go, collect, &st, &generated) == TERRA_OK);
  CHECK(generated == 3 && st.count == 3);

  /* Bad requests: named, and the session still works after them. */
  go.sampling.top_p = 2.0f;
  CHECK(terra_generate(session, "And", &go, collect, &st, NULL) == TERRA_ERROR_INVALID_ARGUMENT);
  CHECK(contains(terra_last_error(), "top-p"));
  go.sampling.top_p = 0.9f;
  go.max_tokens = 1000;
  CHECK(terra_generate(session, "And", &go, collect, &st, NULL) == TERRA_ERROR_OUT_OF_RANGE);
  CHECK(contains(terra_last_error(), "context of 128"));
  go.input = "text";
  go.max_tokens = 4;
  CHECK(terra_generate(session, "And", &go, collect, &st, NULL) == TERRA_ERROR_INVALID_ARGUMENT);
  CHECK(contains(terra_last_error(), "no encoder"));
  go.input = NULL;
  CHECK(terra_session_step(session, -3) == TERRA_ERROR_INVALID_ARGUMENT);
  CHECK(terra_generate(session, "And", &go, collect, &st, NULL) == TERRA_OK);
  so.threads = 0;
  terra_session* bad_session = NULL;
  CHECK(terra_session_create(model, &so, &bad_session) == TERRA_ERROR_INVALID_ARGUMENT);
  CHECK(bad_session == NULL);
  CHECK(contains(terra_last_error(), "threads"));

  /* The same model from an open descriptor (as from an APK asset): the same greedy text. */
  int fd = open(argv[1], O_RDONLY);
  struct stat file_info;
  CHECK(fd >= 0 && fstat(fd, &file_info) == 0);
  terra_model* from_fd = NULL;
  CHECK(terra_model_load_fd(fd, 0, (int64_t)file_info.st_size, &from_fd) == TERRA_OK);
  CHECK(terra_model_load_fd(fd, 0, (int64_t)file_info.st_size + 1, &none) == TERRA_ERROR_IO);
  CHECK(contains(terra_last_error(), "outside the file"));
  CHECK(terra_model_load_fd(fd, 4, (int64_t)file_info.st_size - 4, &none) == TERRA_ERROR_INVALID_ARGUMENT);
  CHECK(contains(terra_last_error(), "multiple of 64"));
  close(fd); /* the mapping outlives the descriptor */
  if (from_fd != NULL) {
    terra_session* fd_session = NULL;
    CHECK(terra_session_create(from_fd, &so, &fd_session) == TERRA_ERROR_INVALID_ARGUMENT); /* threads = 0 */
    so.threads = 1;
    CHECK(terra_session_create(from_fd, &so, &fd_session) == TERRA_OK);
    Collected f;
    memset(&f, 0, sizeof f);
    go.max_tokens = 40;
    go.sampling.temperature = 0;
    CHECK(terra_generate(fd_session, "And God said", &go, collect, &f, NULL) == TERRA_OK);
    CHECK(strcmp(f.text, a.text) == 0);
    terra_session_free(fd_session);
    terra_model_free(from_fd);
  }

  /* Beam search (trax's decoding.beam_search): one beam is greedy decoding; beams come best first. */
  {
    int32_t prompt_ids[64];
    size_t n = 0;
    prompt_ids[0] = (int32_t)terra_model_start_token(model);
    CHECK(terra_tokenize(model, "And God said", prompt_ids + 1, 63, &n) == TERRA_OK);
    int32_t beam_tokens[3 * 12];
    float beam_scores[3];
    CHECK(terra_beam_search(model, NULL, prompt_ids, n + 1, NULL, 0, 3, 12, beam_tokens, beam_scores) == TERRA_OK);
    CHECK(beam_scores[0] >= beam_scores[1] && beam_scores[1] >= beam_scores[2]);
    CHECK(terra_beam_search(model, NULL, prompt_ids, n + 1, NULL, 0, 1, 12, beam_tokens, beam_scores) == TERRA_OK);
    char beam_text[512];
    size_t beam_length = 0;
    CHECK(terra_detokenize(model, beam_tokens, 12, beam_text, sizeof beam_text, &beam_length) == TERRA_OK);
    CHECK(strstr(a.text, beam_text) != NULL); /* the greedy continuation, decoded alone */
    CHECK(terra_beam_search(model, NULL, prompt_ids, n + 1, NULL, 0, 0, 12, beam_tokens, beam_scores) ==
          TERRA_ERROR_INVALID_ARGUMENT);
    CHECK(contains(terra_last_error(), "beams = 0"));
    CHECK(terra_beam_search(model, NULL, NULL, 0, NULL, 0, 2, 12, beam_tokens, beam_scores) ==
          TERRA_ERROR_INVALID_ARGUMENT);
  }

  /* Read into private memory instead of mapped: the same greedy text; a memory limit is named. */
  terra_model_options mo = terra_model_default_options();
  CHECK(mo.copy == 0);
  mo.copy = 1;
  terra_model* copied = NULL;
  CHECK(terra_model_load_with_options(argv[1], &mo, &copied) == TERRA_OK);
  if (copied != NULL) {
    terra_session* copy_session = NULL;
    so = terra_session_default_options();
    so.max_context = 4096;
    so.max_memory = 1 << 20;
    CHECK(terra_session_create(copied, &so, &copy_session) == TERRA_ERROR_OUT_OF_MEMORY);
    CHECK(contains(terra_last_error(), "more than its memory limit of 1 MiB"));
    so.max_memory = 0;
    CHECK(terra_session_create(copied, &so, &copy_session) == TERRA_OK);
    Collected f;
    memset(&f, 0, sizeof f);
    go.max_tokens = 40;
    go.sampling.temperature = 0;
    CHECK(terra_generate(copy_session, "And God said", &go, collect, &f, NULL) == TERRA_OK);
    CHECK(strcmp(f.text, a.text) == 0);
    terra_session_free(copy_session);
    terra_model_free(copied);
  }

  terra_session_free(session);
  terra_model_free(model);
  terra_model_free(NULL); /* freeing nothing is allowed */
  terra_session_free(NULL);
  if (failures) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf("C API: all checks passed\n");
  return 0;
}

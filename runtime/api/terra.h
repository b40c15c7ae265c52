/* terra: sparse Terraformer language models on phones and boards. The C API.
 *
 * Load a model (mapped, not copied), create a session (all of its memory is planned there), then
 * generate text with a callback per token. Only C types cross this header; every call that can
 * fail returns a terra_status, and terra_last_error() names the problem (file, tensor, value).
 *
 *   terra_model* model;
 *   if (terra_model_load("kjv-sparse.terra", &model) != TERRA_OK) puts(terra_last_error());
 *   terra_session_options so = terra_session_default_options();
 *   terra_session* session;
 *   terra_session_create(model, &so, &session);
 *   terra_generate_options go = terra_generate_default_options();
 *   terra_generate(session, "And God said", &go, print_piece, NULL, NULL);
 *   terra_session_free(session);
 *   terra_model_free(model);
 *
 * Threads (tests/c_api/test_c_api_threads.c holds the library to this):
 *   - any call may be made from any thread; terra_last_error() is per thread;
 *   - a model may be shared: terra_session_create, terra_tokenize, terra_detokenize and the
 *     terra_model_* getters may run on several threads at once with the same model;
 *   - a session is used by one thread at a time (calls on one session must not overlap);
 *   - the stop flag of terra_generate_options may be set from any thread;
 *   - free a model only after its sessions, when no call on it is running.
 * A mapped model file must not be changed in place while loaded (a truncated file kills the
 * process with SIGBUS): replace it by writing a new file and rename()-ing it over the old one, or
 * load it with terra_model_options.copy.
 */
#ifndef TERRA_H
#define TERRA_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define TERRA_API
#else
#define TERRA_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define TERRA_VERSION_MAJOR 0
#define TERRA_VERSION_MINOR 1
#define TERRA_VERSION_PATCH 0
TERRA_API const char* terra_version(void);

typedef enum terra_status {
  TERRA_OK = 0,
  TERRA_ERROR_INVALID_ARGUMENT = 1, /* a bad option, token, prompt or null pointer */
  TERRA_ERROR_IO = 2,               /* a file that cannot be opened or mapped */
  TERRA_ERROR_CORRUPT_MODEL = 3,    /* a model file that fails verification */
  TERRA_ERROR_UNSUPPORTED = 4,      /* a valid model using a feature this build does not run */
  TERRA_ERROR_OUT_OF_RANGE = 5,     /* longer than the session's context, or a buffer too small */
  TERRA_ERROR_OUT_OF_MEMORY = 6,
  TERRA_ERROR_INTERNAL = 7
} terra_status;

/* The message of the last failed call on this thread ("" if none). Valid until the next call. */
TERRA_API const char* terra_last_error(void);
/* A status's name, e.g. "TERRA_ERROR_IO". */
TERRA_API const char* terra_status_name(terra_status status);

/* ---- Models ---------------------------------------------------------------------------- */
typedef struct terra_model terra_model;

TERRA_API terra_status terra_model_load(const char* path, terra_model** out);

typedef struct terra_model_options {
  int copy; /* nonzero: read the file into private memory instead of mapping it, for files on
               shared or network storage that another process may rewrite while in use */
} terra_model_options;
TERRA_API terra_model_options terra_model_default_options(void);
TERRA_API terra_status terra_model_load_with_options(const char* path, const terra_model_options* options,
                                                     terra_model** out);
/* `size` bytes at `offset` of an open file (kept owned by the caller; it may be closed after
 * this returns): an Android app's uncompressed asset, from AAsset_openFileDescriptor64. The
 * offset must be a multiple of 64 (zipalign -p gives page alignment). */
TERRA_API terra_status terra_model_load_fd(int fd, int64_t offset, int64_t size, terra_model** out);
TERRA_API void terra_model_free(terra_model* model);
TERRA_API int terra_model_vocab_size(const terra_model* model);
TERRA_API int terra_model_max_length(const terra_model* model); /* positions it was trained for */
TERRA_API int terra_model_has_encoder(const terra_model* model);
TERRA_API int terra_model_start_token(const terra_model* model);
TERRA_API int terra_model_end_token(const terra_model* model);

/* Text to ids (no start token is added). Writes up to `capacity` ids and sets *count to the
 * number the text needs; TERRA_ERROR_OUT_OF_RANGE when that is more than capacity (ask with
 * capacity 0 to size the buffer). */
TERRA_API terra_status terra_tokenize(const terra_model* model, const char* text, int32_t* ids, size_t capacity,
                                      size_t* count);
/* Ids to UTF-8 text, NUL-terminated; *length (without the NUL) is set as for terra_tokenize, and
 * the call fails with TERRA_ERROR_OUT_OF_RANGE if length + 1 > capacity. Special tokens give no text. */
TERRA_API terra_status terra_detokenize(const terra_model* model, const int32_t* ids, size_t count, char* text,
                                        size_t capacity, size_t* length);

/* ---- Sessions -------------------------------------------------------------------------- */
typedef struct terra_session terra_session;

typedef struct terra_session_options {
  int threads;     /* compute threads, >= 1 (default 1) */
  int max_context; /* positions planned: prompt + generated (+ encoder input); 0 = the model's
                      trained length capped at 4096 */
  int max_input;   /* encoder-decoder models: longest input; 0 = max_context */
  int pin_threads; /* nonzero: pin the compute threads to the fastest cores (big cores on
                      big.LITTLE); the thread calling terra_session_create is one of them */
  uint64_t max_memory; /* largest arena in bytes; 0 = half of the machine's physical memory.
                          Creation fails with TERRA_ERROR_OUT_OF_MEMORY, naming both sizes. */
} terra_session_options;

TERRA_API terra_session_options terra_session_default_options(void);
/* The session keeps a pointer to the model: free the model after its sessions. */
TERRA_API terra_status terra_session_create(const terra_model* model, const terra_session_options* options,
                                            terra_session** out);
TERRA_API void terra_session_free(terra_session* session);
TERRA_API int terra_session_max_context(const terra_session* session);
TERRA_API size_t terra_session_memory_bytes(const terra_session* session); /* its arena */

/* ---- Generation ------------------------------------------------------------------------ */
typedef struct terra_sampling {
  float temperature; /* 0 = greedy (default 0.8) */
  int top_k;         /* keep the k most likely tokens, 0 = all (default 40) */
  float top_p;       /* nucleus mass in (0, 1] (default 0.95) */
  uint64_t seed;     /* same seed, same text */
} terra_sampling;

typedef struct terra_generate_options {
  int max_tokens;          /* tokens to generate at most (default 64) */
  terra_sampling sampling;
  int stop_at_end;         /* nonzero: stop at the model's end token (default 1) */
  const char* input;       /* encoder-decoder models: the encoder's input text, else NULL */
  const int* stop;         /* optional: generation stops before the next token once *stop != 0
                              (read atomically; set it from any thread) */
} terra_generate_options;

TERRA_API terra_generate_options terra_generate_default_options(void);

/* Called once per generated token with the text it completes (UTF-8, possibly empty while a
 * multi-byte character is unfinished; not NUL-terminated). Return nonzero to stop. */
typedef int (*terra_token_callback)(void* user, int32_t token, const char* text, size_t length);

/* Starts a new sequence from the prompt (the session is reset) and generates. *generated (may
 * be NULL) receives the number of tokens produced, also when stopped early. Decoding allocates
 * nothing: all memory was planned by terra_session_create. */
TERRA_API terra_status terra_generate(terra_session* session, const char* prompt, const terra_generate_options* options,
                                      terra_token_callback callback, void* user, int* generated);

/* ---- Beam search ----------------------------------------------------------------------- */
/* Beam search as trax's decoding.beam_search: the prompt ids (fed as given: start with
 * terra_model_start_token() for a text prompt, then its terra_tokenize() ids) and, for
 * encoder-decoder models, the input ids; `beams` hypotheses of exactly `max_tokens` tokens, best
 * first: beam b's tokens at tokens[b * max_tokens ...], its summed log-probability at scores[b].
 * The sessions it needs are planned from `options` (max_context 0: exactly what this needs) and
 * freed before it returns. */
TERRA_API terra_status terra_beam_search(const terra_model* model, const terra_session_options* options,
                                         const int32_t* prompt, size_t prompt_count, const int32_t* input,
                                         size_t input_count, int beams, int max_tokens, int32_t* tokens,
                                         float* scores);

/* ---- Step by step (own sampling, scoring) ---------------------------------------------- */
TERRA_API void terra_session_reset(terra_session* session);
/* Feeds one token at the next position; terra_session_logits() then holds its logits. */
TERRA_API terra_status terra_session_step(terra_session* session, int32_t token);
TERRA_API const float* terra_session_logits(const terra_session* session); /* vocab_size floats */
TERRA_API int terra_session_position(const terra_session* session);

#ifdef __cplusplus
}
#endif

#endif /* TERRA_H */

/* Generates a few tokens with the installed library: terra_consumer MODEL PROMPT */
#include <stdio.h>

#include <terra.h>

static int print_piece(void* user, int32_t token, const char* text, size_t length) {
  (void)user;
  (void)token;
  fwrite(text, 1, length, stdout);
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  terra_model* model;
  terra_session* session;
  if (terra_model_load(argv[1], &model) != TERRA_OK || terra_session_create(model, NULL, &session) != TERRA_OK) {
    fprintf(stderr, "consumer: %s\n", terra_last_error());
    return 1;
  }
  terra_generate_options options = terra_generate_default_options();
  options.max_tokens = 16;
  options.sampling.temperature = 0;
  printf("consumer (terra %s): %s", terra_version(), argv[2]);
  const terra_status status = terra_generate(session, argv[2], &options, print_piece, NULL, NULL);
  printf("\n");
  terra_session_free(session);
  terra_model_free(model);
  return status == TERRA_OK ? 0 : 1;
}

/*
 * embed.c - serve a trained flow from your own program.
 *
 * The flow is compiled once for apply, with its trained states loaded
 * once; each request is one call that takes a frame and returns the frame
 * the sink would have received. No feed is read and no sink is written.
 *
 *   switchyard train examples/iris/pipeline.flow --state iris.state
 *   examples/embed/embed examples/iris/pipeline.flow iris.state 5.1 3.5 1.4 0.2
 *
 * Build against an installed switchyard:
 *   cc -o embed embed.c $(pkg-config --cflags --libs switchyard)
 */
#include <stdio.h>
#include <stdlib.h>

#include <switchyard/switchyard.h>

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr,
            "usage: %s FLOW STATE SEPAL_LENGTH SEPAL_WIDTH PETAL_LENGTH "
            "PETAL_WIDTH\n",
            argv[0]);
    return 2;
  }
  sy_error err;
  sy_error_clear(&err);
  sy_platform *platform = NULL;
  sy_callable *call = NULL;
  sy_value *request = NULL, *reply = NULL;
  int status = 1;

  /* The same config layers and plugin folders as the switchyard command. */
  if (sy_platform_open(NULL, &platform, &err) != 0)
    goto fail;
  if (sy_callable_new(platform, argv[1], argv[2], &call, &err) != 0)
    goto fail;

  /* One request: a one-row frame with the flow's feature columns. */
  static const char *const names[] = {"sepal_length", "sepal_width",
                                      "petal_length", "petal_width"};
  if (sy_frame_new(1, &request) != 0)
    goto fail;
  for (int c = 0; c < 4; c++) {
    double v = strtod(argv[3 + c], NULL);
    if (sy_frame_add_f64(request, names[c], &v, NULL) != 0)
      goto fail;
  }
  if (sy_callable_call(call, request, &reply, &err) != 0)
    goto fail;

  /* Print the reply row as "column = value". */
  for (size_t c = 0; c < sy_frame_cols(reply); c++) {
    char cell[64];
    sy_frame_format_cell(reply, c, 0, cell, sizeof cell);
    printf("%s = %s\n", sy_frame_col_name(reply, c), cell);
  }
  status = 0;
fail:
  if (status != 0)
    fprintf(stderr, "embed: %s\n",
            err.message[0] ? err.message : "out of memory");
  sy_value_unref(reply);
  sy_value_unref(request);
  sy_callable_free(call);
  sy_platform_close(platform);
  return status;
}

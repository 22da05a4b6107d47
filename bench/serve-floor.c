/*
 * serve-floor.c - the floor for `switchyard serve` on this machine: a
 * libmicrohttpd server set up as serve sets it up (thread pool, epoll,
 * the same timeouts), reading the request body and answering a fixed
 * JSON body, with no decoding, no model and no log. bench/serve.sh runs
 * wrk against it and against serve.
 *
 *   bench/serve-floor PORT [THREADS]     runs until SIGTERM or SIGINT
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char answer[] =
    "{\"rows\":[{\"prediction\":\"setosa\",\"p_setosa\":0.9972757202959086,"
    "\"p_versicolor\":0.0027242796563862414,\"p_virginica\":"
    "4.770510045341032e-11}]}\n";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
  (void)cls;
  (void)url;
  (void)method;
  (void)version;
  (void)upload;
  static int started;
  if (!*con_cls) {
    *con_cls = &started;
    return MHD_YES;
  }
  if (*upload_size) {
    *upload_size = 0; /* read and dropped */
    return MHD_YES;
  }
  struct MHD_Response *r = MHD_create_response_from_buffer(
      sizeof answer - 1, (void *)answer, MHD_RESPMEM_PERSISTENT);
  if (!r)
    return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  enum MHD_Result ret = MHD_queue_response(con, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ret;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: serve-floor PORT [THREADS]\n");
    return 2;
  }
  unsigned port = (unsigned)atoi(argv[1]);
  unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 4;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
                   MHD_USE_ERROR_LOG | MHD_USE_EPOLL;
  struct MHD_OptionItem opts[] = {
      {MHD_OPTION_SOCK_ADDR, 0, &sa},
      {MHD_OPTION_CONNECTION_LIMIT, 272, NULL},
      {MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL},
      {threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
       (intptr_t)threads, NULL},
      {MHD_OPTION_END, 0, NULL}};
  struct MHD_Daemon *d =
      MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, NULL,
                       MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "serve-floor: cannot listen on port %u\n", port);
    return 1;
  }
  int sig;
  sigwait(&set, &sig);
  MHD_stop_daemon(d);
  return 0;
}

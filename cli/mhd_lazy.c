/* mhd_lazy.c - libmicrohttpd, loaded only when `switchyard serve` runs.
 *
 * libmicrohttpd pulls in GnuTLS and eight more libraries (p11-kit, idn2,
 * unistring, tasn1, nettle, hogweed, gmp, ffi); linked into the
 * executable, the dynamic linker maps and relocates all of them at every
 * start, and GnuTLS's constructor reads its config: about 170 page faults
 * and most of what a `switchyard run` cost on top of /bin/true
 * (bench/startup). So the executable does not link libmicrohttpd: this
 * file defines the MHD_* functions cli/cmd_serve.c calls, each of which
 * dlopen()s the library at its first use and forwards to it. The
 * prototypes come from <microhttpd.h>, so the compiler checks that each
 * wrapper matches the library's signature.
 *
 * A command of serve that calls an MHD_* function not listed here fails
 * to link ("undefined reference to MHD_..."): add one line to the table
 * and one wrapper below. Not thread-safe on the first call: cmd_serve.c
 * makes its first call (MHD_is_feature_supported) before it starts the
 * daemon's threads, and the library stays loaded until exit.
 */
#include <dlfcn.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>

#ifndef SY_MHD_SONAME
#define SY_MHD_SONAME "libmicrohttpd.so.12"
#endif

#define MHD_FUNCS(X)                                                           \
  X(is_feature_supported, MHD_is_feature_supported)                            \
  X(start_daemon_va, MHD_start_daemon_va)                                      \
  X(quiesce_daemon, MHD_quiesce_daemon)                                        \
  X(stop_daemon, MHD_stop_daemon)                                              \
  X(get_connection_info, MHD_get_connection_info)                              \
  X(lookup_connection_value, MHD_lookup_connection_value)                      \
  X(queue_response, MHD_queue_response)                                        \
  X(create_response_from_buffer, MHD_create_response_from_buffer)              \
  X(add_response_header, MHD_add_response_header)                              \
  X(destroy_response, MHD_destroy_response)

static struct {
#define X(field, name) __typeof__(name) *field;
  MHD_FUNCS(X)
#undef X
} mhd;
static int mhd_state; /* 0 not tried, 1 loaded, -1 failed */

/* Loads the library and every function once; says on stderr what is
 * missing and returns 0 when it cannot. */
static int mhd_load(void) {
  if (mhd_state)
    return mhd_state > 0;
  mhd_state = -1;
  void *h = dlopen(SY_MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    fprintf(stderr,
            "switchyard: serve: cannot load %s (%s): install "
            "libmicrohttpd (apt-get install libmicrohttpd12)\n",
            SY_MHD_SONAME, dlerror());
    return 0;
  }
#define X(field, name)                                                         \
  if (!(*(void **)&mhd.field = dlsym(h, #name))) {                             \
    fprintf(stderr, "switchyard: serve: %s has no %s\n", SY_MHD_SONAME,        \
            #name);                                                            \
    return 0;                                                                  \
  }
  MHD_FUNCS(X)
#undef X
  mhd_state = 1;
  return 1;
}

enum MHD_Result MHD_is_feature_supported(enum MHD_FEATURE feature) {
  return mhd_load() ? mhd.is_feature_supported(feature) : MHD_NO;
}

struct MHD_Daemon *MHD_start_daemon_va(unsigned int flags, uint16_t port,
                                       MHD_AcceptPolicyCallback apc,
                                       void *apc_cls,
                                       MHD_AccessHandlerCallback dh,
                                       void *dh_cls, va_list ap) {
  if (!mhd_load())
    return NULL;
  return mhd.start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port,
                                    MHD_AcceptPolicyCallback apc, void *apc_cls,
                                    MHD_AccessHandlerCallback dh, void *dh_cls,
                                    ...) {
  va_list ap;
  va_start(ap, dh_cls);
  struct MHD_Daemon *d =
      MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
  va_end(ap);
  return d;
}

/* The functions below are reached only through a daemon, so the library
 * is loaded by then. */
MHD_socket MHD_quiesce_daemon(struct MHD_Daemon *daemon) {
  return mhd.quiesce_daemon(daemon);
}

void MHD_stop_daemon(struct MHD_Daemon *daemon) {
  mhd.stop_daemon(daemon);
}

/* The varargs of MHD_get_connection_info are reserved ("for future use"):
 * no connection info type that cmd_serve.c asks for reads them. */
const union MHD_ConnectionInfo *
MHD_get_connection_info(struct MHD_Connection *connection,
                        enum MHD_ConnectionInfoType info_type, ...) {
  return mhd.get_connection_info(connection, info_type);
}

const char *MHD_lookup_connection_value(struct MHD_Connection *connection,
                                        enum MHD_ValueKind kind,
                                        const char *key) {
  return mhd.lookup_connection_value(connection, kind, key);
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *connection,
                                   unsigned int status_code,
                                   struct MHD_Response *response) {
  return mhd.queue_response(connection, status_code, response);
}

struct MHD_Response *
MHD_create_response_from_buffer(size_t size, void *buffer,
                                enum MHD_ResponseMemoryMode mode) {
  if (!mhd_load())
    return NULL;
  return mhd.create_response_from_buffer(size, buffer, mode);
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *response,
                                        const char *header,
                                        const char *content) {
  return mhd.add_response_header(response, header, content);
}

void MHD_destroy_response(struct MHD_Response *response) {
  mhd.destroy_response(response);
}

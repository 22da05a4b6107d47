/*
 * test_actor_sys.c - the sys.exec actor, driven without the loader.
 *
 * The provider's sources are compiled into this binary; each test fills a
 * sys_exec_config by hand (as the core would from a flow's params), makes
 * an instance through the descriptor and applies it. The cases cover the
 * data paths (stdin, placeholders, {out}, bytes), the failure messages
 * (exit status, signal, timeout), the ways a child can deadlock or outlive
 * its run (large stdin, stderr flood, timeout with SIGTERM ignored), the
 * environment, cwd, temp folder cleanup, descriptor hygiene and concurrent
 * runs on one instance.
 */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <switchyard/actor.h>
#include <switchyard/error.h>
#include <switchyard/value.h>

#include "actor_sys.h"
#include "fixture.h"

/* A private folder for the tests' own files, made in main(). */
static char test_dir[PATH_MAX];

static sys_exec_config make_cfg(const char *command) {
  sys_exec_config c;

  memset(&c, 0, sizeof c);
  c.command = command;
  c.stdin_mode = SYS_STDIN_AUTO;
  c.output = SYS_OUTPUT_CSV;
  c.media_type = "application/octet-stream";
  return c;
}

static const sy_actor_ops *ops(void) {
  return (const sy_actor_ops *)sys_exec_provider.ops;
}

/* Creates an instance from cfg, applies it once and destroys it. */
static int run_once(const sys_exec_config *cfg, const sy_value *const *in,
                    size_t n_in, sy_value **out, sy_error *err) {
  void *self = NULL;
  int rc = sys_exec_provider.create(cfg, &self, err);

  if (rc != 0)
    return rc;
  rc = ops()->apply(self, in, n_in, out, err);
  sys_exec_provider.destroy(self);
  return rc;
}

static double now_s(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A frame of three typed columns whose CSV text reads back identically. */
static sy_value *sample_frame(void) {
  static const int64_t ids[] = {1, 2, 3};
  static const double xs[] = {0.5, -3.0, 1e-3};
  static const char *const names[] = {"a", "b c", "d,\"e\""};
  sy_value *f = NULL;

  CU_ASSERT_FATAL(sy_frame_new(3, &f) == 0);
  CU_ASSERT_FATAL(sy_frame_add_i64(f, "id", ids, NULL) == 0);
  CU_ASSERT_FATAL(sy_frame_add_f64(f, "x", xs, NULL) == 0);
  CU_ASSERT_FATAL(sy_frame_add_str(f, "name", names) == 0);
  return f;
}

static sy_value *one_col_frame(const char *name, int64_t a, int64_t b) {
  int64_t v[2] = {a, b};
  sy_value *f = NULL;

  CU_ASSERT_FATAL(sy_frame_new(2, &f) == 0);
  CU_ASSERT_FATAL(sy_frame_add_i64(f, name, v, NULL) == 0);
  return f;
}

/* The bytes of a bytes value as a NUL-terminated copy (for comparing). */
static char *bytes_str(const sy_value *v) {
  size_t len = 0;
  const char *d = sy_bytes_data(v, &len);
  char *s = malloc(len + 1);

  CU_ASSERT_FATAL(d != NULL && s != NULL);
  memcpy(s, d, len);
  s[len] = '\0';
  return s;
}

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  int n = 0;

  if (!d)
    return -1;
  while ((e = readdir(d)) != NULL)
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;

  if (!d)
    return -1;
  while ((e = readdir(d)) != NULL)
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
}

/* Whether pid is gone (or a zombie waiting for init to reap it). */
static int process_gone(pid_t pid) {
  char path[64], stat[256];
  FILE *f;
  char *paren;
  int gone = 1;

  if (kill(pid, 0) != 0 && errno == ESRCH)
    return 1;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  f = fopen(path, "r");
  if (!f)
    return 1;
  if (fgets(stat, sizeof stat, f) && (paren = strrchr(stat, ')')) != NULL)
    gone = paren[1] == ' ' && paren[2] == 'Z';
  fclose(f);
  return gone;
}

static pid_t read_pid(const char *path) {
  FILE *f = fopen(path, "r");
  int pid = 0;

  if (!f)
    return 0;
  if (fscanf(f, "%d", &pid) != 1)
    pid = 0;
  fclose(f);
  return (pid_t)pid;
}

/* ---- the descriptor ----------------------------------------------------- */

static void test_actor_sys_descriptor(void) {
  const sy_option *o;
  int seen = 0;

  CU_ASSERT_EQUAL(sys_exec_provider.kind, SY_KIND_ACTOR);
  CU_ASSERT_STRING_EQUAL(sys_exec_provider.name, "sys.exec");
  CU_ASSERT_EQUAL(sys_exec_provider.config_size, sizeof(sys_exec_config));
  CU_ASSERT_EQUAL(ops()->size, sizeof(sy_actor_ops));
  CU_ASSERT_EQUAL(ops()->min_inputs, 0);
  CU_ASSERT_EQUAL(ops()->max_inputs, SY_ARITY_MANY);
  CU_ASSERT_EQUAL(ops()->n_outputs, 1);
  CU_ASSERT_EQUAL(ops()->flags & SY_ACTOR_STATEFUL, 0);
  CU_ASSERT_PTR_NOT_NULL(ops()->apply);
  for (o = sys_exec_provider.options; o->name; o++) {
    CU_ASSERT_PTR_NOT_NULL(o->help);
    if (strcmp(o->name, "command") == 0) {
      CU_ASSERT(o->flags & SY_OPT_REQUIRED);
      seen |= 1;
    } else if (strcmp(o->name, "stdin") == 0) {
      CU_ASSERT_STRING_EQUAL(o->def, "auto");
      CU_ASSERT_STRING_EQUAL(o->choices[SYS_STDIN_NONE], "none");
      CU_ASSERT_STRING_EQUAL(o->choices[SYS_STDIN_IN0], "in0");
      CU_ASSERT_STRING_EQUAL(o->choices[SYS_STDIN_AUTO], "auto");
      seen |= 2;
    } else if (strcmp(o->name, "output") == 0) {
      CU_ASSERT_STRING_EQUAL(o->choices[SYS_OUTPUT_CSV], "csv");
      CU_ASSERT_STRING_EQUAL(o->choices[SYS_OUTPUT_BYTES], "bytes");
      seen |= 4;
    } else if (strcmp(o->name, "timeout") == 0) {
      CU_ASSERT_EQUAL(o->type, SY_OPT_DURATION);
      seen |= 8;
    }
  }
  CU_ASSERT_EQUAL(seen, 15);
}

static void test_actor_sys_create_rejects_bad_config(void) {
  static const char *const bad_env[] = {"GOOD=1", "BAD", NULL};
  sys_exec_config c = make_cfg("true");
  sy_error err;
  void *self = NULL;

  c.env = bad_env;
  CU_ASSERT_EQUAL(sys_exec_create(&c, &self, &err), SY_ECONFIG);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'BAD'"));
  c = make_cfg("");
  CU_ASSERT_EQUAL(sys_exec_create(&c, &self, &err), SY_ECONFIG);
  c = make_cfg("true");
  c.output = SYS_OUTPUT_BYTES;
  c.media_type = "no slash";
  CU_ASSERT_EQUAL(sys_exec_create(&c, &self, &err), SY_ECONFIG);
  CU_ASSERT_PTR_NULL(self);
}

/* ---- data paths --------------------------------------------------------- */

static void test_actor_sys_cat_stdin_returns_same_frame(void) {
  sys_exec_config c = make_cfg("cat");
  sy_value *f = sample_frame(), *out = NULL;
  const sy_value *in[1] = {f};
  sy_error err;
  int rc = run_once(&c, in, 1, &out, &err);

  CU_ASSERT_EQUAL_FATAL(rc, 0);
  CU_ASSERT(sy_value_equal(out, f));
  sy_value_unref(out);
  sy_value_unref(f);
}

static void test_actor_sys_placeholders_paste_and_awk(void) {
  sys_exec_config c = make_cfg("paste -d, {in0} {in1}");
  sy_value *a = one_col_frame("a", 1, 2), *b = one_col_frame("b", 30, 40);
  sy_value *out = NULL;
  const sy_value *in[2] = {a, b};
  sy_error err;

  CU_ASSERT_EQUAL_FATAL(run_once(&c, in, 2, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_cols(out), 2);
  CU_ASSERT_EQUAL(sy_frame_rows(out), 2);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 1), "b");
  CU_ASSERT_EQUAL(sy_frame_i64(out, 1)[1], 40);
  sy_value_unref(out);
  out = NULL;

  /* awk's braces are not placeholders; {in} is {in0}. */
  c = make_cfg("awk -F, 'NR == 1 { print \"sum\" } NR > 1 { print $1 + $2 }' "
               "{in1} | paste -d, - {in}");
  CU_ASSERT_EQUAL_FATAL(run_once(&c, in, 2, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_cols(out), 2);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 0), "sum");
  CU_ASSERT_EQUAL(sy_frame_i64(out, 0)[0], 30);
  CU_ASSERT_EQUAL(sy_frame_i64(out, 1)[1], 2);
  sy_value_unref(out);
  sy_value_unref(a);
  sy_value_unref(b);
}

static void test_actor_sys_auto_stdin_is_none_with_placeholder(void) {
  sys_exec_config c = make_cfg(": {in0}; wc -c | tr -d ' '");
  sy_value *a = one_col_frame("a", 1, 2), *out = NULL;
  const sy_value *in[1] = {a};
  sy_error err;
  char *s;

  c.output = SYS_OUTPUT_BYTES;
  CU_ASSERT_EQUAL_FATAL(run_once(&c, in, 1, &out, &err), 0);
  s = bytes_str(out);
  CU_ASSERT_STRING_EQUAL(s, "0\n");
  free(s);
  sy_value_unref(out);
  out = NULL;

  /* stdin = in0 feeds it anyway ("a\n1\n2\n" is 6 bytes). */
  c.stdin_mode = SYS_STDIN_IN0;
  CU_ASSERT_EQUAL_FATAL(run_once(&c, in, 1, &out, &err), 0);
  s = bytes_str(out);
  CU_ASSERT_STRING_EQUAL(s, "6\n");
  free(s);
  sy_value_unref(out);
  sy_value_unref(a);
}

static void test_actor_sys_placeholder_out_of_range(void) {
  sys_exec_config c = make_cfg("cat {in1}");
  sy_value *a = one_col_frame("a", 1, 2), *out = NULL;
  const sy_value *in[1] = {a};
  sy_error err;

  CU_ASSERT_EQUAL(run_once(&c, in, 1, &out, &err), SY_EINVAL);
  CU_ASSERT_STRING_EQUAL(err.message,
                         "sys.exec: the command uses {in1} but the step has "
                         "1 input");
  CU_ASSERT_PTR_NULL(out);
  sy_value_unref(a);
}

static void test_actor_sys_output_bytes(void) {
  sys_exec_config c = make_cfg("tr a-z A-Z");
  sy_value *b = NULL, *out = NULL;
  const sy_value *in[1];
  sy_error err;
  char *s;

  CU_ASSERT_FATAL(sy_bytes_new("hello, world", 12, "text/plain", &b) == 0);
  in[0] = b;
  c.output = SYS_OUTPUT_BYTES;
  c.media_type = "text/plain";
  CU_ASSERT_EQUAL_FATAL(run_once(&c, in, 1, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_value_type_of(out), SY_VALUE_BYTES);
  CU_ASSERT_STRING_EQUAL(sy_bytes_media_type(out), "text/plain");
  s = bytes_str(out);
  CU_ASSERT_STRING_EQUAL(s, "HELLO, WORLD");
  free(s);
  sy_value_unref(out);
  sy_value_unref(b);
}

static void test_actor_sys_out_file_replaces_stdout(void) {
  sys_exec_config c = make_cfg("printf 'v\\n7\\n' > {out}; echo ignored");
  sy_value *out = NULL;
  sy_error err;

  CU_ASSERT_EQUAL_FATAL(run_once(&c, NULL, 0, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_cols(out), 1);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 0), "v");
  CU_ASSERT_EQUAL(sy_frame_i64(out, 0)[0], 7);
  sy_value_unref(out);
  out = NULL;

  /* Without the file, stdout is the output. */
  c = make_cfg("echo {out} >/dev/null; printf 'w\\n8\\n'");
  CU_ASSERT_EQUAL_FATAL(run_once(&c, NULL, 0, &out, &err), 0);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 0), "w");
  sy_value_unref(out);
}

static void test_actor_sys_bad_csv_output(void) {
  sys_exec_config c = make_cfg("printf 'a,b\\n1\\n'");
  sy_value *out = NULL;
  sy_error err;

  CU_ASSERT_EQUAL(run_once(&c, NULL, 0, &out, &err), SY_ESYNTAX);
  CU_ASSERT_EQUAL(strncmp(err.message, "sys.exec: stdout:2:", 19), 0);
  CU_ASSERT_PTR_NULL(out);
}

/* ---- failures ----------------------------------------------------------- */

static void test_actor_sys_nonzero_exit_has_stderr_tail(void) {
  sys_exec_config c = make_cfg("echo starting; echo 'bad thing' >&2; exit 3");
  sy_value *out = NULL;
  sy_error err;

  CU_ASSERT_EQUAL(run_once(&c, NULL, 0, &out, &err), SY_EFAILED);
  CU_ASSERT_STRING_EQUAL(err.message,
                         "sys.exec: command exited with status 3: bad thing");
  CU_ASSERT_PTR_NULL(out);

  c = make_cfg("exit 1");
  CU_ASSERT_EQUAL(run_once(&c, NULL, 0, &out, &err), SY_EFAILED);
  CU_ASSERT_STRING_EQUAL(err.message, "sys.exec: command exited with status 1");
}

static void test_actor_sys_killed_by_signal(void) {
  sys_exec_config c = make_cfg("echo dying >&2; kill -SEGV $$");
  sy_value *out = NULL;
  sy_error err;
  char want[256];

  CU_ASSERT_EQUAL(run_once(&c, NULL, 0, &out, &err), SY_EFAILED);
  snprintf(want, sizeof want,
           "sys.exec: command killed by signal %d (%s): dying", SIGSEGV,
           strsignal(SIGSEGV));
  CU_ASSERT_STRING_EQUAL(err.message, want);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "signal 11 (Segmentation"));
}

static void test_actor_sys_timeout_kills_the_group(void) {
  char pidfile[PATH_MAX + 16], cmd[PATH_MAX + 64];
  sys_exec_config c;
  sy_value *out = NULL;
  sy_error err;
  double t0, took;
  pid_t pid;
  int i;

  snprintf(pidfile, sizeof pidfile, "%s/sleep.pid", test_dir);
  snprintf(cmd, sizeof cmd, "sleep 10 & echo $! > %s; wait", pidfile);
  c = make_cfg(cmd);
  c.timeout = 200 * 1000000LL;
  t0 = now_s();
  CU_ASSERT_EQUAL(run_once(&c, NULL, 0, &out, &err), SY_ETIMEOUT);
  took = now_s() - t0;
  CU_ASSERT(took >= 0.19 && took < 3.0);
  CU_ASSERT_STRING_EQUAL(err.message,
                         "sys.exec: command timed out after 200ms");
  CU_ASSERT_PTR_NULL(out);
  pid = read_pid(pidfile);
  CU_ASSERT_FATAL(pid > 0);
  /* The grandchild is reparented; give its reaper a moment. */
  for (i = 0; i < 200 && !process_gone(pid); i++)
    usleep(10000);
  CU_ASSERT(process_gone(pid));
  unlink(pidfile);
}

static void test_actor_sys_timeout_escalates_to_sigkill(void) {
  sys_exec_config c = make_cfg("trap '' TERM; echo stubborn >&2; sleep 10");
  sy_value *out = NULL;
  sy_error err;
  double t0, took;

  c.timeout = 100 * 1000000LL;
  t0 = now_s();
  CU_ASSERT_EQUAL(run_once(&c, NULL, 0, &out, &err), SY_ETIMEOUT);
  took = now_s() - t0;
  /* SIGTERM is ignored, so SIGKILL comes one second later. */
  CU_ASSERT(took >= 1.0 && took < 4.0);
  CU_ASSERT_STRING_EQUAL(err.message,
                         "sys.exec: command timed out after 100ms: stubborn");
}

static void test_actor_sys_output_cap(void) {
  sys_exec_config c = make_cfg("head -c 100000 /dev/zero");
  sy_value *out = NULL;
  sy_error err;
  void *self = NULL;

  c.output = SYS_OUTPUT_BYTES;
  CU_ASSERT_FATAL(sys_exec_create(&c, &self, &err) == 0);
  ((sys_exec *)self)->max_output = 1000;
  CU_ASSERT_EQUAL(sys_exec_apply(self, NULL, 0, &out, &err), SY_ETOOBIG);
  CU_ASSERT_STRING_EQUAL(err.message,
                         "sys.exec: command output exceeds 1000 bytes");
  CU_ASSERT_PTR_NULL(out);
  sys_exec_destroy(self);
}

static void test_actor_sys_bad_cwd(void) {
  sys_exec_config c = make_cfg("pwd");
  sy_value *out = NULL;
  sy_error err;

  c.cwd = "/nonexistent/folder";
  CU_ASSERT_EQUAL(run_once(&c, NULL, 0, &out, &err), SY_EFAILED);
  CU_ASSERT_STRING_EQUAL(err.message,
                         "sys.exec: cannot change to folder "
                         "/nonexistent/folder: No such file or directory");
}

/* ---- no deadlocks ------------------------------------------------------- */

static void test_actor_sys_large_input_through_cat(void) {
  size_t len = 10u << 20, i;
  char *data = malloc(len);
  sys_exec_config c = make_cfg("cat");
  sy_value *b = NULL, *out = NULL;
  const sy_value *in[1];
  sy_error err;

  CU_ASSERT_FATAL(data != NULL);
  for (i = 0; i < len; i++)
    data[i] = (char)('a' + i % 26);
  CU_ASSERT_FATAL(sy_bytes_new(data, len, NULL, &b) == 0);
  in[0] = b;
  c.output = SYS_OUTPUT_BYTES;
  CU_ASSERT_EQUAL_FATAL(run_once(&c, in, 1, &out, &err), 0);
  CU_ASSERT(sy_value_equal(out, b));
  sy_value_unref(out);
  sy_value_unref(b);
  free(data);
}

static void test_actor_sys_stderr_flood(void) {
  sys_exec_config c =
      make_cfg("yes 'error line' | head -n 200000 >&2; printf 'v\\n1\\n'");
  sy_value *out = NULL;
  sy_error err;

  CU_ASSERT_EQUAL_FATAL(run_once(&c, NULL, 0, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_i64(out, 0)[0], 1);
  sy_value_unref(out);

  /* On failure the message keeps the end of stderr, cut to fit. */
  c = make_cfg("yes 'error line' | head -n 200000 >&2; echo last >&2; "
               "exit 2");
  CU_ASSERT_EQUAL(run_once(&c, NULL, 0, &out, &err), SY_EFAILED);
  CU_ASSERT(strlen(err.message) < SY_ERROR_MAX);
  CU_ASSERT_EQUAL(
      strncmp(err.message, "sys.exec: command exited with status 2: ...", 43),
      0);
  CU_ASSERT(strlen(err.message) > 4 &&
            strcmp(err.message + strlen(err.message) - 4, "last") == 0);
}

static void test_actor_sys_unread_stdin_does_not_kill_host(void) {
  size_t len = 4u << 20;
  char *data = calloc(1, len);
  sys_exec_config c = make_cfg("exit 0");
  sy_value *b = NULL, *out = NULL;
  const sy_value *in[1];
  sy_error err;
  size_t n = 1;

  CU_ASSERT_FATAL(data != NULL);
  CU_ASSERT_FATAL(sy_bytes_new(data, len, NULL, &b) == 0);
  in[0] = b;
  c.output = SYS_OUTPUT_BYTES;
  c.stdin_mode = SYS_STDIN_IN0;
  CU_ASSERT_EQUAL_FATAL(run_once(&c, in, 1, &out, &err), 0);
  sy_bytes_data(out, &n);
  CU_ASSERT_EQUAL(n, 0);
  sy_value_unref(out);
  sy_value_unref(b);
  free(data);
}

/* ---- environment, cwd, cleanup ------------------------------------------ */

static void test_actor_sys_env_entries(void) {
  static const char *const env[] = {"SY_TEST_A=hello world", "HOME=/nowhere",
                                    NULL};
  sys_exec_config c = make_cfg("printf '%s|%s|%s' \"$SY_TEST_A\" \"$HOME\" "
                               "\"${PATH:+path}\"");
  sy_value *out = NULL;
  sy_error err;
  char *s;

  c.env = env;
  c.output = SYS_OUTPUT_BYTES;
  CU_ASSERT_EQUAL_FATAL(run_once(&c, NULL, 0, &out, &err), 0);
  s = bytes_str(out);
  CU_ASSERT_STRING_EQUAL(s, "hello world|/nowhere|path");
  free(s);
  sy_value_unref(out);
}

static void test_actor_sys_cwd(void) {
  sys_exec_config c = make_cfg("pwd -P");
  sy_value *out = NULL;
  sy_error err;
  char real[PATH_MAX], *s;

  CU_ASSERT_FATAL(realpath(test_dir, real) != NULL);
  strcat(real, "\n");
  c.cwd = test_dir;
  c.output = SYS_OUTPUT_BYTES;
  CU_ASSERT_EQUAL_FATAL(run_once(&c, NULL, 0, &out, &err), 0);
  s = bytes_str(out);
  CU_ASSERT_STRING_EQUAL(s, real);
  free(s);
  sy_value_unref(out);
}

/* ---- deps: the fingerprint --------------------------------------------- */

/* The fingerprint of cfg's instance into key; returns its code. */
static int fingerprint_of(const sys_exec_config *cfg, uint8_t key[16],
                          sy_error *err) {
  void *self = NULL;
  int rc = sys_exec_provider.create(cfg, &self, err);

  if (rc != 0)
    return rc;
  CU_ASSERT_TRUE(SY_ACTOR_HAS_FINGERPRINT(ops()));
  rc = ops()->fingerprint(self, key, err);
  sys_exec_provider.destroy(self);
  return rc;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");

  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs(text, f);
  CU_ASSERT_EQUAL(fclose(f), 0);
}

/* The content of every dep goes into the fingerprint: changing one
 * changes it, and restoring the content restores it; without deps it is
 * all zero. A dep is found relative to cwd when cwd is set. */
static void test_actor_sys_deps_fingerprint(void) {
  char a[PATH_MAX + 16], b[PATH_MAX + 16];
  const char *deps[3] = {a, b, NULL};
  static const char *const rel[] = {"dep_a.txt", NULL};
  static const uint8_t zero[16];
  sys_exec_config c = make_cfg("true");
  uint8_t k0[16], k1[16], k2[16], k3[16];
  sy_error err;

  CU_ASSERT_EQUAL(fingerprint_of(&c, k0, &err), 0);
  CU_ASSERT(memcmp(k0, zero, 16) == 0);

  snprintf(a, sizeof a, "%s/dep_a.txt", test_dir);
  snprintf(b, sizeof b, "%s/dep_b.txt", test_dir);
  write_file(a, "one\n");
  write_file(b, "two\n");
  c.deps = deps;
  CU_ASSERT_EQUAL_FATAL(fingerprint_of(&c, k1, &err), 0);
  CU_ASSERT(memcmp(k1, zero, 16) != 0);
  write_file(b, "three\n");
  CU_ASSERT_EQUAL_FATAL(fingerprint_of(&c, k2, &err), 0);
  CU_ASSERT(memcmp(k1, k2, 16) != 0);
  write_file(b, "two\n");
  CU_ASSERT_EQUAL_FATAL(fingerprint_of(&c, k3, &err), 0);
  CU_ASSERT(memcmp(k1, k3, 16) == 0);

  /* Relative to cwd: the same file, the same content hash as alone. */
  const char *abs_only[] = {a, NULL};
  c.deps = abs_only;
  CU_ASSERT_EQUAL_FATAL(fingerprint_of(&c, k1, &err), 0);
  c.deps = rel;
  c.cwd = test_dir;
  CU_ASSERT_EQUAL_FATAL(fingerprint_of(&c, k2, &err), 0);
  CU_ASSERT(memcmp(k1, k2, 16) == 0);
  unlink(a);
  unlink(b);
}

/* A missing dep, or one that is a folder, fails with a message naming it
 * and saying what deps are for. */
static void test_actor_sys_deps_missing(void) {
  static const char *const missing[] = {"no_such_dep.txt", NULL};
  const char *folder[] = {test_dir, NULL};
  sys_exec_config c = make_cfg("true");
  uint8_t key[16];
  sy_error err;

  c.deps = missing;
  c.cwd = test_dir;
  CU_ASSERT_EQUAL(fingerprint_of(&c, key, &err), SY_ENOENT);
  CU_ASSERT(strstr(err.message, "dep 'no_such_dep.txt'") != NULL);
  CU_ASSERT(strstr(err.message, "cannot be read") != NULL);
  CU_ASSERT(strstr(err.message, "cache key") != NULL);
  c.deps = folder;
  CU_ASSERT_EQUAL(fingerprint_of(&c, key, &err), SY_EINVAL);
  CU_ASSERT(strstr(err.message, "is not a regular file") != NULL);
}

static void test_actor_sys_temp_folder_removed(void) {
  char tmp[PATH_MAX + 8], *old = getenv("TMPDIR");
  char *saved = old ? strdup(old) : NULL;
  sys_exec_config c;
  sy_value *a = one_col_frame("a", 1, 2), *out = NULL;
  const sy_value *in[1] = {a};
  sy_error err;

  snprintf(tmp, sizeof tmp, "%s/tmp", test_dir);
  CU_ASSERT_FATAL(mkdir(tmp, 0700) == 0);
  setenv("TMPDIR", tmp, 1);

  /* The command litters the folder, with a subfolder, and succeeds. */
  c = make_cfg("d=$(dirname {out}); mkdir \"$d/sub\"; touch \"$d/sub/f\" "
               "\"$d/x\"; cat {in0}");
  CU_ASSERT_EQUAL(run_once(&c, in, 1, &out, &err), 0);
  CU_ASSERT(sy_value_equal(out, a));
  sy_value_unref(out);
  out = NULL;
  CU_ASSERT_EQUAL(count_entries(tmp), 0);

  /* And when it fails. */
  c = make_cfg("cat {in0} > {out}; exit 4");
  CU_ASSERT_EQUAL(run_once(&c, in, 1, &out, &err), SY_EFAILED);
  CU_ASSERT_EQUAL(count_entries(tmp), 0);

  /* The temp paths really were under $TMPDIR. */
  c = make_cfg("echo {in0}");
  c.output = SYS_OUTPUT_BYTES;
  CU_ASSERT_EQUAL(run_once(&c, in, 1, &out, &err), 0);
  if (out) {
    char *s = bytes_str(out);
    CU_ASSERT_EQUAL(strncmp(s, tmp, strlen(tmp)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "/in0.csv"));
    free(s);
    sy_value_unref(out);
  }
  CU_ASSERT_EQUAL(count_entries(tmp), 0);

  if (saved)
    setenv("TMPDIR", saved, 1);
  else
    unsetenv("TMPDIR");
  free(saved);
  rmdir(tmp);
  sy_value_unref(a);
}

static void test_actor_sys_no_descriptor_leak(void) {
  sys_exec_config c = make_cfg("cat {in0}; ls /proc/self/fd | wc -l >&2");
  sy_value *a = one_col_frame("a", 1, 2), *out = NULL;
  const sy_value *in[1] = {a};
  sy_error err;
  int before = count_fds(), i;

  for (i = 0; i < 5; i++) {
    CU_ASSERT_EQUAL(run_once(&c, in, 1, &out, &err), 0);
    sy_value_unref(out);
    out = NULL;
  }
  c = make_cfg("exit 9");
  CU_ASSERT_EQUAL(run_once(&c, in, 1, &out, &err), SY_EFAILED);
  CU_ASSERT_EQUAL(count_fds(), before);

  /* The child sees 0, 1, 2 and the folder ls reads, nothing else. */
  c = make_cfg("ls /proc/self/fd");
  c.output = SYS_OUTPUT_BYTES;
  CU_ASSERT_EQUAL_FATAL(run_once(&c, NULL, 0, &out, &err), 0);
  {
    char *s = bytes_str(out);
    CU_ASSERT_STRING_EQUAL(s, "0\n1\n2\n3\n");
    free(s);
  }
  sy_value_unref(out);
  sy_value_unref(a);
}

/* ---- concurrency -------------------------------------------------------- */

typedef struct worker {
  void *self;
  int id;
  int failures;
} worker;

static void *worker_main(void *arg) {
  worker *w = arg;
  int i;

  for (i = 0; i < 10; i++) {
    char buf[64];
    sy_value *b = NULL, *out = NULL;
    const sy_value *in[1];
    sy_error err;
    int n = snprintf(buf, sizeof buf, "worker %d run %d\n", w->id, i);
    if (sy_bytes_new(buf, (size_t)n, NULL, &b) != 0) {
      w->failures++;
      continue;
    }
    in[0] = b;
    if (sys_exec_apply(w->self, in, 1, &out, &err) != 0 ||
        !sy_value_equal(out, b))
      w->failures++;
    sy_value_unref(out);
    sy_value_unref(b);
  }
  return NULL;
}

static void test_actor_sys_concurrent_applies(void) {
  sys_exec_config c = make_cfg("cat");
  worker w[6];
  pthread_t t[6];
  void *self = NULL;
  sy_error err;
  int i, failures = 0;

  c.output = SYS_OUTPUT_BYTES;
  c.timeout = 20LL * 1000000000LL; /* a leaked pipe would hang a cat */
  CU_ASSERT_FATAL(sys_exec_create(&c, &self, &err) == 0);
  for (i = 0; i < 6; i++) {
    w[i] = (worker){self, i, 0};
    CU_ASSERT_FATAL(pthread_create(&t[i], NULL, worker_main, &w[i]) == 0);
  }
  for (i = 0; i < 6; i++) {
    pthread_join(t[i], NULL);
    failures += w[i].failures;
  }
  CU_ASSERT_EQUAL(failures, 0);
  sys_exec_destroy(self);
}

/* ---- main --------------------------------------------------------------- */

static void remove_test_dir(void) {
  if (test_dir[0] && fx_rmtree(test_dir) != 0)
    fprintf(stderr, "could not remove %s\n", test_dir);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"descriptor", test_actor_sys_descriptor},
      {"create_rejects_bad_config", test_actor_sys_create_rejects_bad_config},
      {"cat_stdin_returns_same_frame",
       test_actor_sys_cat_stdin_returns_same_frame},
      {"placeholders_paste_and_awk", test_actor_sys_placeholders_paste_and_awk},
      {"auto_stdin_is_none_with_placeholder",
       test_actor_sys_auto_stdin_is_none_with_placeholder},
      {"placeholder_out_of_range", test_actor_sys_placeholder_out_of_range},
      {"output_bytes", test_actor_sys_output_bytes},
      {"out_file_replaces_stdout", test_actor_sys_out_file_replaces_stdout},
      {"bad_csv_output", test_actor_sys_bad_csv_output},
      {"nonzero_exit_has_stderr_tail",
       test_actor_sys_nonzero_exit_has_stderr_tail},
      {"killed_by_signal", test_actor_sys_killed_by_signal},
      {"timeout_kills_the_group", test_actor_sys_timeout_kills_the_group},
      {"timeout_escalates_to_sigkill",
       test_actor_sys_timeout_escalates_to_sigkill},
      {"output_cap", test_actor_sys_output_cap},
      {"bad_cwd", test_actor_sys_bad_cwd},
      {"large_input_through_cat", test_actor_sys_large_input_through_cat},
      {"stderr_flood", test_actor_sys_stderr_flood},
      {"unread_stdin_does_not_kill_host",
       test_actor_sys_unread_stdin_does_not_kill_host},
      {"env_entries", test_actor_sys_env_entries},
      {"cwd", test_actor_sys_cwd},
      {"deps_fingerprint", test_actor_sys_deps_fingerprint},
      {"deps_missing", test_actor_sys_deps_missing},
      {"temp_folder_removed", test_actor_sys_temp_folder_removed},
      {"no_descriptor_leak", test_actor_sys_no_descriptor_leak},
      {"concurrent_applies", test_actor_sys_concurrent_applies},
      CU_TEST_INFO_NULL,
  };
  const char *base = getenv("TMPDIR");

  snprintf(test_dir, sizeof test_dir, "%s/test_actor_sys-XXXXXX",
           base && *base ? base : "/tmp");
  if (!mkdtemp(test_dir)) {
    perror("mkdtemp");
    return 2;
  }
  int failed = fx_run_suite("actor_sys", NULL, NULL, tests);
  remove_test_dir();
  return failed;
}

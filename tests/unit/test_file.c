/*
 * test_file.c - the writers and the reader of user-named files
 * (include/switchyard/file.h, core/file.c): a directory, device, FIFO or
 * socket is refused with a message naming the path and is left as it
 * was; a symlink is written through; no temporary file survives an abort
 * or a failed commit; the reader refuses what is not a regular file or is
 * too large, without reading it.
 */
#include <switchyard/file.h>

#include <CUnit/Basic.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fixture.h"

/* fx_tmpdir/name in a buffer of the caller's. */
static const char *at(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "%s/%s", fx_tmpdir, name);
  return buf;
}

/* Entries of fx_tmpdir (not . and ..). */
static int count_entries(void) {
  DIR *d = opendir(fx_tmpdir);
  int n = 0;
  if (!d)
    return -1;
  for (struct dirent *e; (e = readdir(d));)
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
}

static mode_t lmode(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 ? st.st_mode : 0;
}

/* Every writer refuses `path`, the message names it and says `what`. */
static void refused_by_all(const char *path, const char *what) {
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(sy_file_write(path, "x", 1, &err), SY_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, path));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, what));
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(sy_output_check(path, &err), SY_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, path));
  sy_output *o = (sy_output *)&err; /* must be reset to NULL */
  CU_ASSERT_EQUAL(sy_output_open(path, &o, &err), SY_EINVAL);
  CU_ASSERT_PTR_NULL(o);
  FILE *f = stdout;
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(sy_output_stream(path, &f, &err), SY_EINVAL);
  CU_ASSERT_PTR_NULL(f);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, path));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, what));
}

static void test_file_device_refused(void) {
  fx_tmpdir_reset();
  refused_by_all("/dev/null", "character device");
  CU_ASSERT(S_ISCHR(lmode("/dev/null")));
  /* nothing was created beside it */
  CU_ASSERT_EQUAL(access("/dev/null.tmp", F_OK), -1);
}

static void test_file_fifo_refused(void) {
  fx_tmpdir_reset();
  char p[512];
  at(p, sizeof p, "fifo");
  CU_ASSERT_FATAL(mkfifo(p, 0600) == 0);
  /* No reader: a blocking open would hang here. */
  refused_by_all(p, "FIFO");
  CU_ASSERT(S_ISFIFO(lmode(p)));
  CU_ASSERT_EQUAL(count_entries(), 1);
}

static void test_file_socket_refused(void) {
  fx_tmpdir_reset();
  char p[512];
  at(p, sizeof p, "sock");
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  CU_ASSERT_FATAL(s >= 0);
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  CU_ASSERT_FATAL(strlen(p) < sizeof sa.sun_path);
  memcpy(sa.sun_path, p, strlen(p) + 1);
  CU_ASSERT_FATAL(bind(s, (struct sockaddr *)&sa, sizeof sa) == 0);
  refused_by_all(p, "socket");
  CU_ASSERT(S_ISSOCK(lmode(p)));
  CU_ASSERT_EQUAL(count_entries(), 1);
  close(s);
}

static void test_file_directory_refused(void) {
  fx_tmpdir_reset();
  char p[512];
  at(p, sizeof p, "dir");
  CU_ASSERT_FATAL(mkdir(p, 0700) == 0);
  refused_by_all(p, "directory");
  CU_ASSERT(S_ISDIR(lmode(p)));
  CU_ASSERT_EQUAL(count_entries(), 1);
  /* "folder/" names the folder too */
  char q[520];
  snprintf(q, sizeof q, "%s/", p);
  sy_error err;
  CU_ASSERT_EQUAL(sy_file_write(q, "x", 1, &err), SY_EINVAL);
  CU_ASSERT_EQUAL(count_entries(), 1);
}

static void test_file_missing_folder(void) {
  fx_tmpdir_reset();
  char p[512], want[1200];
  at(p, sizeof p, "nope/out");
  sy_error err;
  CU_ASSERT_EQUAL(sy_file_write(p, "x", 1, &err), SY_ENOENT);
  snprintf(want, sizeof want, "folder '%s/nope' does not exist (for '%s')",
           fx_tmpdir, p);
  CU_ASSERT_STRING_EQUAL(err.message, want);
  CU_ASSERT_EQUAL(count_entries(), 0);
}

/* A symlink is written through: the link stays, its target gets the new
 * content, and the temporary file was made in the target's folder. */
static void test_file_symlink_written_through(void) {
  fx_tmpdir_reset();
  char t[512], l[512], sub[512], l2[512], d[512], dt[512];
  CU_ASSERT_FATAL(fx_write_text("target", "old\n") == 0);
  at(t, sizeof t, "target");
  at(l, sizeof l, "link");
  CU_ASSERT_FATAL(symlink("target", l) == 0);
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(sy_file_write(l, "new\n", 4, &err), 0);
  CU_ASSERT(S_ISLNK(lmode(l)));
  char *text = fx_read_all(t, NULL);
  CU_ASSERT_STRING_EQUAL(text ? text : "", "new\n");
  free(text);
  CU_ASSERT_EQUAL(count_entries(), 2);
  /* A relative link is relative to its own folder; a chain of links. */
  at(sub, sizeof sub, "sub");
  CU_ASSERT_FATAL(mkdir(sub, 0700) == 0);
  at(l2, sizeof l2, "sub/up");
  CU_ASSERT_FATAL(symlink("../link", l2) == 0);
  CU_ASSERT_EQUAL(sy_file_write(l2, "newer\n", 6, &err), 0);
  CU_ASSERT(S_ISLNK(lmode(l2)) && S_ISLNK(lmode(l)));
  text = fx_read_all(t, NULL);
  CU_ASSERT_STRING_EQUAL(text ? text : "", "newer\n");
  free(text);
  /* A dangling link names the file to create. */
  at(d, sizeof d, "dangling");
  at(dt, sizeof dt, "created");
  CU_ASSERT_FATAL(symlink("created", d) == 0);
  CU_ASSERT_EQUAL(sy_file_write(d, "c", 1, &err), 0);
  CU_ASSERT(S_ISLNK(lmode(d)) && S_ISREG(lmode(dt)));
  /* The streaming writer writes through too. */
  FILE *f = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_output_stream(l, &f, &err), 0);
  fputs("log\n", f);
  CU_ASSERT_EQUAL(fclose(f), 0);
  CU_ASSERT(S_ISLNK(lmode(l)));
  text = fx_read_all(t, NULL);
  CU_ASSERT_STRING_EQUAL(text ? text : "", "log\n");
  free(text);
  /* A link to a device is refused, naming the link and what it points
   * at; the device stays. */
  char n[512];
  at(n, sizeof n, "null");
  CU_ASSERT_FATAL(symlink("/dev/null", n) == 0);
  CU_ASSERT_EQUAL(sy_file_write(n, "x", 1, &err), SY_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, n));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "-> /dev/null"));
  CU_ASSERT(S_ISLNK(lmode(n)) && S_ISCHR(lmode("/dev/null")));
}

/* An aborted writer leaves nothing; the target keeps its old content. */
static void test_file_abort_leaves_nothing(void) {
  fx_tmpdir_reset();
  char p[512];
  at(p, sizeof p, "out");
  CU_ASSERT_FATAL(fx_write_text("out", "old") == 0);
  sy_output *o = NULL;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy_output_open(p, &o, &err), 0);
  CU_ASSERT_STRING_EQUAL(sy_output_target(o), p);
  CU_ASSERT_EQUAL(sy_output_write(o, "half", 4, &err), 0);
  CU_ASSERT_EQUAL(count_entries(), 2); /* the temporary file */
  sy_output_abort(o);
  sy_output_abort(NULL);
  CU_ASSERT_EQUAL(count_entries(), 1);
  char *text = fx_read_all(p, NULL);
  CU_ASSERT_STRING_EQUAL(text ? text : "", "old");
  free(text);
}

/* The entry is checked again before the rename: a FIFO put in the
 * target's place after the open is not replaced, and the temporary file
 * is removed. */
static void test_file_commit_rechecks(void) {
  fx_tmpdir_reset();
  char p[512];
  at(p, sizeof p, "out");
  sy_output *o = NULL;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy_output_open(p, &o, &err), 0);
  CU_ASSERT_EQUAL(sy_output_write(o, "data", 4, &err), 0);
  CU_ASSERT_FATAL(mkfifo(p, 0600) == 0);
  CU_ASSERT_EQUAL(sy_output_commit(o, &err), SY_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, p));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "FIFO"));
  CU_ASSERT(S_ISFIFO(lmode(p)));
  CU_ASSERT_EQUAL(count_entries(), 1);
  /* a symlink that appeared meanwhile is not replaced either */
  CU_ASSERT_FATAL(unlink(p) == 0);
  CU_ASSERT_EQUAL_FATAL(sy_output_open(p, &o, &err), 0);
  CU_ASSERT_FATAL(symlink("/dev/null", p) == 0);
  CU_ASSERT_EQUAL(sy_output_commit(o, &err), SY_EINVAL);
  CU_ASSERT(S_ISLNK(lmode(p)));
  CU_ASSERT_EQUAL(count_entries(), 1);
}

/* A commit replaces a regular file, keeping its permissions. */
static void test_file_commit_replaces(void) {
  fx_tmpdir_reset();
  char p[512];
  at(p, sizeof p, "out");
  CU_ASSERT_FATAL(fx_write_text("out", "old content") == 0);
  CU_ASSERT_FATAL(chmod(p, 0640) == 0);
  sy_error err;
  CU_ASSERT_EQUAL(sy_file_write(p, "new", 3, &err), 0);
  size_t len = 0;
  char *text = fx_read_all(p, &len);
  CU_ASSERT_STRING_EQUAL(text ? text : "", "new");
  free(text);
  CU_ASSERT_EQUAL(lmode(p) & 0777, 0640);
  CU_ASSERT_EQUAL(count_entries(), 1);
  /* as root, the owner is kept too */
  if (geteuid() == 0) {
    struct stat st;
    CU_ASSERT_FATAL(chown(p, 4242, 4343) == 0);
    CU_ASSERT_EQUAL(sy_file_write(p, "again", 5, &err), 0);
    CU_ASSERT(stat(p, &st) == 0 && st.st_uid == 4242 && st.st_gid == 4343);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0640);
  }
  /* the streaming writer truncates what was there */
  FILE *f = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_output_stream(p, &f, &err), 0);
  fputs("s", f);
  CU_ASSERT_EQUAL(fclose(f), 0);
  text = fx_read_all(p, NULL);
  CU_ASSERT_STRING_EQUAL(text ? text : "", "s");
  free(text);
}

static void test_file_read_limits(void) {
  fx_tmpdir_reset();
  void *data = NULL;
  size_t len = 0;
  sy_error err;
  /* a device is refused at once, not read forever */
  CU_ASSERT_EQUAL(sy_file_read("/dev/zero", 1 << 20, &data, &len, &err),
                  SY_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "/dev/zero"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "not a regular file"));
  CU_ASSERT_PTR_NULL(data);
  /* a FIFO without a writer does not block */
  char p[512];
  at(p, sizeof p, "fifo");
  CU_ASSERT_FATAL(mkfifo(p, 0600) == 0);
  CU_ASSERT_EQUAL(sy_file_read(p, 100, &data, &len, &err), SY_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "FIFO"));
  /* size limit, checked before reading */
  CU_ASSERT_FATAL(fx_write_text("ten", "0123456789") == 0);
  at(p, sizeof p, "ten");
  CU_ASSERT_EQUAL(sy_file_read(p, 9, &data, &len, &err), SY_ETOOBIG);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, p));
  CU_ASSERT_EQUAL(sy_file_read(p, 10, &data, &len, &err), 0);
  CU_ASSERT_EQUAL(len, 10);
  CU_ASSERT_STRING_EQUAL(data ? (char *)data : "", "0123456789");
  free(data);
  /* a missing file */
  at(p, sizeof p, "missing");
  CU_ASSERT_EQUAL(sy_file_read(p, 10, &data, &len, &err), SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, p));
  /* an empty file */
  CU_ASSERT_FATAL(fx_write_text("empty", "") == 0);
  at(p, sizeof p, "empty");
  CU_ASSERT_EQUAL(sy_file_read(p, 10, &data, &len, &err), 0);
  CU_ASSERT_EQUAL(len, 0);
  free(data);
}

int main(void) {
  if (fx_tmpdir_make("/tmp/sy-file-XXXXXX") != 0)
    return 1;
  static const CU_TestInfo tests[] = {
#define T(fn) {#fn, fn}
      T(test_file_device_refused),
      T(test_file_fifo_refused),
      T(test_file_socket_refused),
      T(test_file_directory_refused),
      T(test_file_missing_folder),
      T(test_file_symlink_written_through),
      T(test_file_abort_leaves_nothing),
      T(test_file_commit_rechecks),
      T(test_file_commit_replaces),
      T(test_file_read_limits),
#undef T
      CU_TEST_INFO_NULL,
  };
  int rc = fx_run_suite("file", NULL, NULL, tests);
  fx_tmpdir_remove();
  return rc;
}

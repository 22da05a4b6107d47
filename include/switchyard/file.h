/*
 * switchyard/file.h - writing and reading the files a user names.
 *
 * Every file that a user names as an output (`train --state`, the csv
 * sink's `path`, `compile -o`, `--log`, `--trace`, the graphviz runner's
 * output) is written through these functions, so that a write never
 * clobbers what it must not touch:
 *
 *   - Only a regular file, or a name that does not exist yet, is written.
 *     A directory, character or block device, FIFO or socket is refused
 *     with an error that names the path (as root, `--state /dev/null`
 *     would otherwise replace the real /dev/null with a regular file).
 *   - A symbolic link is written THROUGH: the link is resolved (a chain of
 *     links too, up to 40, and a dangling link names the file to create),
 *     the temporary file goes in the target's folder and is renamed over
 *     the target, so the link stays a link and its target gets the new
 *     data. The target is checked like any other path.
 *   - The checks happen when the file is opened, on what was opened, not
 *     only with a stat() beforehand (see each function).
 *
 * Two kinds of writer:
 *
 *   atomic (sy_output_open .. sy_output_commit): the data goes to
 *     "<target>.tmp.<pid>.<random>" in the target's folder (created with
 *     O_EXCL, mode 0666 less the umask, or the mode and, where the
 *     process may, the owner of the file it replaces), is fsync()ed, and is
 * renamed over the target only by sy_output_commit(); readers see the old file
 * or the new one, never half of one. Just before the rename, the target's entry
 * is checked again (fstatat(AT_SYMLINK_NOFOLLOW) on the folder's descriptor):
 * it must still be absent or a regular file, else nothing is renamed. A writer
 * that is aborted, or whose commit fails, removes its temporary file.
 *
 *   streaming (sy_output_stream): for logs written while a run goes on.
 *     The path is opened with O_NOCTTY | O_NONBLOCK | O_CLOEXEC (so a
 *     FIFO without a reader cannot block the open and a terminal does not
 *     become the controlling one), the descriptor is fstat()ed and
 *     anything but a regular file is refused before a byte is written;
 *     only then is O_NONBLOCK cleared and the file truncated.
 *
 * The reader (sy_file_read) takes a regular file only, and refuses one
 * larger than the caller's limit before reading it, so `--state /dev/zero`
 * or a huge file cannot make it read forever.
 * sy_file_read_fd is the same reader on a descriptor the caller opened
 * and checked (a config file may be a pipe; a plugin checks its own
 * file's type): it is the one whole-file reader of the core and the
 * built-in providers.
 *
 * Ownership: an sy_output is owned by the caller from sy_output_open()
 * until sy_output_commit() or sy_output_abort(), which both free it. A
 * FILE from sy_output_stream() and a buffer from sy_file_read() are the
 * caller's (fclose / free).
 * Thread-safety: the functions are reentrant; one sy_output must not be
 * used by two threads at once.
 * Since ABI 1.3.
 */
#ifndef SWITCHYARD_FILE_H
#define SWITCHYARD_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sy_output sy_output;

/* Since ABI 1.3. Starts an atomic write of `path`: resolves symlinks,
 * refuses a target that exists and is not a regular file (SY_EINVAL, the
 * message names the path and what it is), a folder that does not exist
 * (SY_ENOENT), and creates the temporary file. *out is NULL on failure. */
SY_API int sy_output_open(const char *path, sy_output **out, sy_error *err);

/* Since ABI 1.3. The descriptor to write the new content to (the
 * temporary file); it stays the sy_output's: do not close it. */
SY_API int sy_output_fd(const sy_output *o);

/* Since ABI 1.3. The file that commit will replace: `path` with its
 * symlinks resolved. Valid until commit or abort. */
SY_API const char *sy_output_target(const sy_output *o);

/* Since ABI 1.3. Writes all of data to the temporary file, retrying on
 * short writes and EINTR. */
SY_API int sy_output_write(sy_output *o, const void *data, size_t len,
                           sy_error *err);

/* Since ABI 1.3. fsync()s and closes the temporary file, checks that the
 * target is still absent or a regular file, renames the temporary file
 * over it and fsync()s the folder (best effort). Frees o whatever the
 * outcome; on failure the temporary file is removed and the target is
 * untouched. */
SY_API int sy_output_commit(sy_output *o, sy_error *err);

/* Since ABI 1.3. Removes the temporary file and frees o. o may be NULL. */
SY_API void sy_output_abort(sy_output *o);

/* Since ABI 1.3. The checks of sy_output_open() alone, creating nothing:
 * for a command that wants to refuse a bad path before it does the work
 * whose result goes there. They are repeated when the file is opened. */
SY_API int sy_output_check(const char *path, sy_error *err);

/* Since ABI 1.3. All of sy_output_open, write and commit for one buffer. */
SY_API int sy_file_write(const char *path, const void *data, size_t len,
                         sy_error *err);

/* Since ABI 1.3. Opens `path` for a streaming writer (a log) as described
 * above and returns it as a stdio stream ("w"). Nothing is created,
 * truncated or written when the path is refused. */
SY_API int sy_output_stream(const char *path, FILE **out, sy_error *err);

/* Since ABI 1.3. Reads the regular file `path` whole into a malloc()ed
 * buffer with a NUL after the last byte (not counted in *len). A file
 * that is not regular is SY_EINVAL, one larger than `limit` bytes is
 * SY_ETOOBIG, a missing one SY_ENOENT; the message names the path. */
SY_API int sy_file_read(const char *path, size_t limit, void **data,
                        size_t *len, sy_error *err);

/* Since ABI 1.3. The reader of sy_file_read() for a descriptor the caller
 * opened (and checked) itself: reads from fd's offset to its end into a
 * malloc()ed buffer with a NUL after the last byte (not counted in *len).
 * More than `limit` bytes is SY_ETOOBIG; the file need not be regular (a
 * pipe is read until it ends). `name` names the file in messages. fd stays
 * the caller's, open. This is the one whole-file reader of switchyard:
 * use it rather than a read() loop of your own. */
SY_API int sy_file_read_fd(int fd, const char *name, size_t limit, void **data,
                           size_t *len, sy_error *err);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_FILE_H */

/*
 * fuzz_file.h - for parsers that only read a named file: the input goes
 * into one memfd, rewritten each run and named /proc/self/fd/N, so a run
 * costs no disk I/O and leaves nothing behind.
 */
#ifndef CF_FUZZ_FILE_H
#define CF_FUZZ_FILE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

struct fuzz_file {
	int fd;
	char path[64];
};

/* Opens the memfd once per process; aborts when it cannot (the target
 * would otherwise fuzz nothing but "cannot open"). */
static inline void fuzz_file_open(struct fuzz_file *f, const char *name)
{
	f->fd = memfd_create(name, MFD_CLOEXEC);
	if (f->fd < 0)
		abort();
	snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
}

/* Replaces the file's content with data. Each open of path reads it from
 * the start (a new open file description). */
static inline void fuzz_file_put(struct fuzz_file *f, const uint8_t *data,
				 size_t size)
{
	size_t off = 0;

	if (ftruncate(f->fd, 0) != 0)
		abort();
	while (off < size) {
		ssize_t n = pwrite(f->fd, data + off, size - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			abort();
		off += (size_t)n;
	}
}

/* data as a NUL-terminated string (an embedded NUL ends it early, as it
 * would for the real caller). NULL when out of memory. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < size; i++)
		s[i] = (char)data[i];
	s[size] = '\0';
	return s;
}

#endif

/*
 * pingpong.c - coffer-pingpong: the floor that every remote figure is
 * stated against (issue 4, "Measure").
 *
 * Two processes and one Unix stream socket (socketpair): the parent writes
 * SIZE bytes, the child reads them and writes SIZE bytes back, the parent
 * reads them. One such exchange is a round trip; each is timed on its own
 * and the median and p90 are reported. Reads and writes block, as a plain
 * RPC client and server do, so on a VM a round trip is mostly the cost of
 * waking the other vCPU twice.
 *
 * --spin-us N adds what an opt-in low-latency mode would do: both sides
 * poll the socket without blocking for up to N microseconds before falling
 * back to a blocking read. The CPU time both processes burn per round trip
 * is reported beside the latency, since spinning trades one for the other.
 *
 * It loads no module and links no coffer code.
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PP_MAX_SIZES 8
#define PP_MAX_SIZE (1u << 24)
#define PP_WARMUP 200
#define PP_MAX_SAMPLES (1u << 21)

struct pp_opts {
	size_t sizes[PP_MAX_SIZES];
	size_t nsizes;
	double seconds;
	unsigned int min_runs;
	unsigned int spin_us;
	unsigned int work_us; /* the echo side computes this long first */
	const char *json;
};

struct pp_result {
	size_t size;
	size_t runs;
	double median, p90;		/* seconds per round trip */
	double cpu_parent, cpu_child; /* CPU seconds per round trip */
};

static double tv_seconds(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static double rusage_cpu(int who)
{
	struct rusage ru;

	if (getrusage(who, &ru) != 0)
		return 0;
	return tv_seconds(&ru.ru_utime) + tv_seconds(&ru.ru_stime);
}

/* Reads exactly len bytes. With spin_us, polls without blocking for up to
 * that long after each empty read before blocking. 0, or -errno (-EPIPE
 * at EOF). */
static int read_all(int fd, unsigned char *buf, size_t len,
		    unsigned int spin_us)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = -1;

		if (spin_us > 0) {
			double until = bench_now() + spin_us / 1e6;

			do
				n = recv(fd, buf + off, len - off,
					 MSG_DONTWAIT);
			while (n < 0 && (errno == EAGAIN || errno == EINTR) &&
			       bench_now() < until);
		}
		if (n < 0)
			n = read(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		off += (size_t)n;
	}
	return 0;
}

static int write_all(int fd, const unsigned char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		off += (size_t)n;
	}
	return 0;
}

/* Keeps the CPU busy for us microseconds, as a token computing a
 * signature would: the echo side's CPU does not go idle meanwhile, but the
 * waiting parent's does. */
static void busy_for(unsigned int us)
{
	double until = bench_now() + us / 1e6;

	while (bench_now() < until) {
	}
}

/* The echoing side: until EOF, read a message, compute work_us, and send
 * it back. */
static int echo(int fd, size_t size, unsigned int spin_us,
		unsigned int work_us)
{
	unsigned char *buf = calloc(1, size);
	int rc = -ENOMEM;

	if (buf == NULL)
		return 1;
	for (;;) {
		rc = read_all(fd, buf, size, spin_us);
		if (rc == 0 && work_us > 0)
			busy_for(work_us);
		if (rc == 0)
			rc = write_all(fd, buf, size);
		if (rc != 0)
			break;
	}
	free(buf);
	return rc == -EPIPE ? 0 : 1;
}

static int round_trip(int fd, unsigned char *buf, size_t size,
		      unsigned int spin_us)
{
	int rc = write_all(fd, buf, size);

	return rc == 0 ? read_all(fd, buf, size, spin_us) : rc;
}

/* One size: fork the echo child, warm up, then time round trips for the
 * loop time. 0 or -errno. */
static int measure(const struct pp_opts *o, size_t size, struct pp_result *r)
{
	unsigned char *buf = NULL;
	double *v = NULL;
	double start, cpu0, cpu_child0;
	size_t cap = 1024;
	int sv[2], status, rc;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->size = size;
	buf = calloc(1, size);
	v = malloc(cap * sizeof(*v));
	if (buf == NULL || v == NULL) {
		rc = -ENOMEM;
		goto out_free;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		rc = -errno;
		goto out_free;
	}
	fflush(stdout);
	fflush(stderr);
	cpu_child0 = rusage_cpu(RUSAGE_CHILDREN);
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(sv[0]);
		close(sv[1]);
		goto out_free;
	}
	if (pid == 0) {
		close(sv[0]);
		_exit(echo(sv[1], size, o->spin_us, o->work_us));
	}
	close(sv[1]);

	rc = 0;
	for (unsigned int i = 0; i < PP_WARMUP && rc == 0; i++)
		rc = round_trip(sv[0], buf, size, o->spin_us);
	cpu0 = rusage_cpu(RUSAGE_SELF);
	start = bench_now();
	while (rc == 0 && (r->runs < o->min_runs ||
			   bench_now() - start < o->seconds)) {
		double t0 = bench_now();

		rc = round_trip(sv[0], buf, size, o->spin_us);
		if (rc != 0)
			break;
		if (r->runs == cap) {
			double *nv;

			if (cap >= PP_MAX_SAMPLES)
				break;
			nv = realloc(v, 2 * cap * sizeof(*v));
			if (nv == NULL) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
			cap *= 2;
		}
		v[r->runs++] = bench_now() - t0;
	}
	if (r->runs > 0)
		r->cpu_parent = (rusage_cpu(RUSAGE_SELF) - cpu0) /
				(double)r->runs;
	/* EOF ends the child; its CPU time is ours to read once reaped.
	 * It includes the warm-up, so it is averaged over those too. */
	close(sv[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			rc = -errno;
			goto out_free;
		}
	if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		rc = -EIO;
	if (r->runs > 0)
		r->cpu_child = (rusage_cpu(RUSAGE_CHILDREN) - cpu_child0) /
			       (double)(r->runs + PP_WARMUP);
	if (rc == 0)
		bench_stats(v, r->runs, &r->median, &r->p90);
out_free:
	free(v);
	free(buf);
	return rc;
}

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: coffer-pingpong [--sizes N[,N...]] [--seconds S] "
		"[--min-runs N]\n"
		"                       [--spin-us N] [--work-us N] "
		"[--json FILE]\n"
		"\n"
		"The blocking round-trip floor: a parent writes N bytes to "
		"a forked child\nover a Unix stream socket, the child "
		"echoes them, repeated for S seconds\n(default sizes "
		"64,65536, 2 s, at least 20 round trips per size).\n"
		"--spin-us N: both sides poll without blocking for up to "
		"N us before a\nblocking read. CPU columns: user+sys of "
		"each process per round trip\n(the child's averaged over "
		"%d warm-up round trips too).\n"
		"--work-us N: the child computes for N us before each "
		"answer, as a token\nsigning would; the parent's CPU idles "
		"meanwhile, as a waiting client's does.\n",
		PP_WARMUP);
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_sizes(struct pp_opts *o, const char *arg)
{
	char buf[256];
	char *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	o->nsizes = 0;
	for (char *t = strtok_r(buf, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		unsigned long v;

		if (o->nsizes == PP_MAX_SIZES ||
		    parse_ulong(t, PP_MAX_SIZE, &v) != 0 || v == 0)
			return -EINVAL;
		o->sizes[o->nsizes++] = v;
	}
	return o->nsizes > 0 ? 0 : -EINVAL;
}

static int parse_args(struct pp_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"sizes", required_argument, NULL, 's'},
	    {"seconds", required_argument, NULL, 't'},
	    {"min-runs", required_argument, NULL, 'n'},
	    {"spin-us", required_argument, NULL, 'p'},
	    {"work-us", required_argument, NULL, 'w'},
	    {"json", required_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	unsigned long v;
	char *end;
	int c;

	o->sizes[0] = 64;
	o->sizes[1] = 65536;
	o->nsizes = 2;
	o->seconds = 2;
	o->min_runs = 20;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_sizes(o, optarg) != 0)
				return -EINVAL;
			break;
		case 't':
			errno = 0;
			o->seconds = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(o->seconds >= 0.001) || o->seconds > 3600)
				return -EINVAL;
			break;
		case 'n':
			if (parse_ulong(optarg, 1000000, &v) != 0 || v == 0)
				return -EINVAL;
			o->min_runs = (unsigned int)v;
			break;
		case 'p':
			if (parse_ulong(optarg, 1000000, &v) != 0)
				return -EINVAL;
			o->spin_us = (unsigned int)v;
			break;
		case 'w':
			if (parse_ulong(optarg, 1000000, &v) != 0)
				return -EINVAL;
			o->work_us = (unsigned int)v;
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

static void print_time(const char *label, double s)
{
	printf("  %s %8.2fus", label, s * 1e6);
}

static int write_json(const struct pp_opts *o, const struct pp_result *r,
		      size_t n)
{
	FILE *fp = fopen(o->json, "w");

	if (fp == NULL)
		return -errno;
	fprintf(fp,
		"{\n  \"tool\": \"coffer-pingpong\",\n  \"seconds\": %g,\n"
		"  \"spin_us\": %u,\n  \"work_us\": %u,\n  \"results\": [",
		o->seconds, o->spin_us, o->work_us);
	for (size_t i = 0; i < n; i++)
		fprintf(fp,
			"%s\n    {\"size\": %zu, \"runs\": %zu, "
			"\"median\": %.9g, \"p90\": %.9g, "
			"\"cpu_parent\": %.9g, \"cpu_child\": %.9g}",
			i ? "," : "", r[i].size, r[i].runs, r[i].median,
			r[i].p90, r[i].cpu_parent, r[i].cpu_child);
	fprintf(fp, "\n  ]\n}\n");
	return fclose(fp) == 0 ? 0 : -errno;
}

int main(int argc, char **argv)
{
	struct pp_result r[PP_MAX_SIZES];
	struct pp_opts o = {0};
	int rc;

	if (parse_args(&o, argc, argv) != 0) {
		usage(stderr);
		return 2;
	}
	printf("coffer-pingpong: blocking round trip over a Unix stream "
	       "socket between two\nprocesses%s; loops of %gs\n",
	       o.spin_us ? "" : " (no spinning)", o.seconds);
	if (o.spin_us)
		printf("  spinning up to %u us before each blocking read\n",
		       o.spin_us);
	if (o.work_us)
		printf("  the child computes for %u us before each answer\n",
		       o.work_us);
	for (size_t i = 0; i < o.nsizes; i++) {
		rc = measure(&o, o.sizes[i], &r[i]);
		if (rc != 0) {
			fprintf(stderr, "coffer-pingpong: %zu bytes: %s\n",
				o.sizes[i], strerror(-rc));
			return 1;
		}
		printf("%7zu B", r[i].size);
		print_time("median", r[i].median);
		print_time("p90", r[i].p90);
		print_time("cpu parent", r[i].cpu_parent);
		print_time("cpu child", r[i].cpu_child);
		printf("  (%zu round trips)\n", r[i].runs);
	}
	if (o.json != NULL) {
		rc = write_json(&o, r, o.nsizes);
		if (rc != 0) {
			fprintf(stderr, "coffer-pingpong: %s: %s\n", o.json,
				strerror(-rc));
			return 1;
		}
	}
	return 0;
}

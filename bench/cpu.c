/*
 * cpu.c - CPU time spent per operation, on both ends of a remote module.
 *
 * A remote call's latency can be bought with CPU (a server or client that
 * spins instead of sleeping), so a latency figure for a remote module is
 * only honest beside what it cost: the bench's own process (the client)
 * from getrusage, and the server given by --server-pid, summed over it and
 * its direct children (cofferd and p11-kit server both serve each
 * connection in a forked child), from /proc/PID/stat.
 */
#include "bench.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static double tv_seconds(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

double bench_cpu_self(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return tv_seconds(&ru.ru_utime) + tv_seconds(&ru.ru_stime);
}

/* Parent pid and utime + stime in ticks of /proc/PID/stat; false when the
 * process is gone or the line does not parse. */
static bool read_stat(long pid, long *ppid, unsigned long long *ticks)
{
	char path[64], line[1024];
	unsigned long long ut, st;
	const char *p;
	FILE *fp;
	bool ok;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fp = fopen(path, "r");
	if (fp == NULL)
		return false;
	ok = fgets(line, sizeof(line), fp) != NULL;
	fclose(fp);
	/* The command name is in parentheses and may hold spaces or
	 * parentheses itself: fields resume after the last ')'. */
	p = ok ? strrchr(line, ')') : NULL;
	if (p == NULL)
		return false;
	/* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
	 * cmajflt utime stime */
	if (sscanf(p + 1,
		   " %*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		   ppid, &ut, &st) != 3)
		return false;
	*ticks = ut + st;
	return true;
}

double bench_cpu_tree(long pid)
{
	unsigned long long ticks = 0, t;
	long hz = sysconf(_SC_CLK_TCK), ppid;
	struct dirent *de;
	DIR *d;

	if (pid <= 0 || hz <= 0 || !read_stat(pid, &ppid, &ticks))
		return -1;
	d = opendir("/proc");
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long child = strtol(de->d_name, &end, 10);

		if (*end != '\0' || child <= 0 || child == pid)
			continue;
		if (read_stat(child, &ppid, &t) && ppid == pid)
			ticks += t;
	}
	closedir(d);
	return (double)ticks / (double)hz;
}

void bench_cpu_start(struct bench_cpu_mark *m, long server_pid)
{
	m->server_pid = server_pid;
	m->server = server_pid > 0 ? bench_cpu_tree(server_pid) : -1;
	m->self = bench_cpu_self();
}

void bench_cpu_end(const struct bench_cpu_mark *m, struct bench_result *r)
{
	double self = bench_cpu_self();
	double server = m->server >= 0 ? bench_cpu_tree(m->server_pid) : -1;

	r->cpu_client = r->cpu_server = -1;
	if (r->status != BENCH_OK || r->runs == 0)
		return;
	r->cpu_client = (self - m->self) / r->runs;
	/* A worker that exited during the loop takes its ticks with it;
	 * a negative difference is no figure, not a negative cost. */
	if (server >= 0 && server >= m->server)
		r->cpu_server = (server - m->server) / r->runs;
}

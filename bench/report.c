/*
 * report.c - the table on stdout and the same figures as JSON.
 *
 * Every figure is printed next to its ratio against the reference module,
 * so that a time never stands alone: absolute times depend on the machine,
 * the ratio between two modules run side by side mostly does not.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define CELL_MAX 48
#define MAX_COLS (1 + BENCH_MAX_MODULES + 1 + 2 * BENCH_MAX_MODULES)
#define MAX_ERRS 32

/* A text grid, measured before it is printed. */
struct grid {
	char (*cell)[MAX_COLS][CELL_MAX];
	size_t rows, cols, cap;
};

static char *grid_cell(struct grid *g, size_t row, size_t col)
{
	return g->cell[row][col];
}

static int grid_add_row(struct grid *g)
{
	if (g->rows == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		void *n = realloc(g->cell, cap * sizeof(*g->cell));

		if (n == NULL)
			return -1;
		g->cell = n;
		g->cap = cap;
	}
	memset(g->cell[g->rows], 0, sizeof(g->cell[0]));
	g->rows++;
	return 0;
}

static void grid_print(const struct grid *g)
{
	size_t width[MAX_COLS] = {0};

	for (size_t r = 0; r < g->rows; r++)
		for (size_t c = 0; c < g->cols; c++) {
			size_t len = strlen(g->cell[r][c]);

			if (len > width[c])
				width[c] = len;
		}
	for (size_t r = 0; r < g->rows; r++) {
		for (size_t c = 0; c < g->cols; c++) {
			/* Names flush left, figures flush right. */
			if (c == 0)
				printf("%-*s", (int)width[c], g->cell[r][c]);
			else
				printf("  %*s", (int)width[c], g->cell[r][c]);
		}
		printf("\n");
	}
}

/* Three significant digits without exponent notation. */
static void fmt_sig(char *out, size_t len, double v, const char *unit)
{
	int prec = v >= 100 ? 0 : v >= 10 ? 1 : 2;

	snprintf(out, len, "%.*f%s", prec, v, unit);
}

static void fmt_time(char *out, size_t len, double s)
{
	if (s < 1e-6)
		fmt_sig(out, len, s * 1e9, "ns");
	else if (s < 1e-3)
		fmt_sig(out, len, s * 1e6, "us");
	else if (s < 1)
		fmt_sig(out, len, s * 1e3, "ms");
	else
		fmt_sig(out, len, s, "s");
}

static void fmt_rate(char *out, size_t len, double r)
{
	if (r >= 1e6)
		fmt_sig(out, len, r / 1e6, "M/s");
	else if (r >= 1e3)
		fmt_sig(out, len, r / 1e3, "k/s");
	else
		fmt_sig(out, len, r, "/s");
}

/* Error texts are long; the cell holds a reference to a footnote. */
struct errs {
	char text[MAX_ERRS][BENCH_NAME_MAX + BENCH_ERR_MAX + 8];
	size_t n;
};

static size_t err_ref(struct errs *e, const char *col, const char *err)
{
	char line[sizeof(e->text[0])];

	snprintf(line, sizeof(line), "%s: %s", col, err);
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->text[i], line) == 0)
			return i + 1;
	if (e->n == MAX_ERRS)
		return MAX_ERRS;
	memcpy(e->text[e->n++], line, sizeof(line));
	return e->n;
}

static bool has_openssl(const struct bench_opts *o)
{
	for (size_t w = 0; w < bench_nworkloads; w++)
		if (o->selected[w] && bench_workloads[w].openssl_op != NULL &&
		    !bench_workloads[w].sized)
			return true;
	return false;
}

static const char *col_name(const struct bench_opts *o, size_t c)
{
	return c < o->nmodules ? o->modules[c].name : "openssl";
}

/* The ratio columns: each module against the reference, then each module
 * against the OpenSSL column when there is one. */
struct pairs {
	size_t a[2 * BENCH_MAX_MODULES], b[2 * BENCH_MAX_MODULES];
	size_t n;
};

static void make_pairs(const struct bench_opts *o, struct pairs *p)
{
	p->n = 0;
	for (size_t m = 0; m < o->nmodules; m++) {
		if (m == o->reference)
			continue;
		p->a[p->n] = m;
		p->b[p->n++] = o->reference;
	}
	if (!has_openssl(o))
		return;
	for (size_t m = 0; m < o->nmodules; m++) {
		p->a[p->n] = m;
		p->b[p->n++] = o->nmodules;
	}
}

/* How many times faster a is than b; 0 when either has no figure. */
static double speedup(const struct bench_workload *w,
		      const struct bench_result *a,
		      const struct bench_result *b, bool use_p90)
{
	double x = use_p90 ? a->p90 : a->value;
	double y = use_p90 ? b->p90 : b->value;

	if (a->status != BENCH_OK || b->status != BENCH_OK || x <= 0 || y <= 0)
		return 0;
	return w->unit == BENCH_SECONDS_PER_OP ? y / x : x / y;
}

static void fmt_ratio(char *out, size_t len, double r)
{
	if (r <= 0)
		snprintf(out, len, "-");
	else
		fmt_sig(out, len, r, "x");
}

static bool column_applies(const struct bench_opts *o,
			   const struct bench_workload *w, size_t c)
{
	return c < o->nmodules || (w->openssl_op != NULL && !w->sized);
}

static void fmt_cell(char *out, const struct bench_opts *o,
		     const struct bench_workload *w,
		     const struct bench_result *r, size_t c, bool use_p90,
		     struct errs *e)
{
	if (!column_applies(o, w, c)) {
		out[0] = '\0';
		return;
	}
	switch (r->status) {
	case BENCH_OK:
		if (w->unit == BENCH_OPS_PER_SECOND)
			fmt_rate(out, CELL_MAX, r->value);
		else
			fmt_time(out, CELL_MAX, use_p90 ? r->p90 : r->value);
		break;
	case BENCH_SKIPPED:
		snprintf(out, CELL_MAX, "-");
		break;
	case BENCH_UNSUPPORTED:
		snprintf(out, CELL_MAX, "n/a");
		break;
	case BENCH_ERROR:
		snprintf(out, CELL_MAX, "ERR[%zu]",
			 err_ref(e, col_name(o, c), r->err));
		break;
	default:
		snprintf(out, CELL_MAX, "?");
		break;
	}
}

static void row_name(char *out, const struct bench_opts *o, size_t w, size_t s)
{
	if (bench_workloads[w].sized)
		snprintf(out, CELL_MAX, "%s@%zu", bench_workloads[w].name,
			 o->sizes[s]);
	else
		snprintf(out, CELL_MAX, "%s", bench_workloads[w].name);
}

static int add_rows(struct grid *g, const struct bench_opts *o,
		    const struct bench_table *t, const struct pairs *p,
		    size_t ncols, size_t w, size_t s, struct errs *e)
{
	const struct bench_workload *wl = &bench_workloads[w];
	/* A second line with the p90 for loops of many runs. */
	size_t lines = wl->kind == BENCH_TIMED ? 2 : 1;

	for (size_t line = 0; line < lines; line++) {
		bool p90 = line == 1;
		size_t row = g->rows;

		if (grid_add_row(g) != 0)
			return -1;
		if (p90)
			snprintf(grid_cell(g, row, 0), CELL_MAX, "  p90");
		else
			row_name(grid_cell(g, row, 0), o, w, s);
		for (size_t c = 0; c < ncols; c++)
			fmt_cell(grid_cell(g, row, 1 + c), o, wl,
				 &t->cell[w][s][c], c, p90, e);
		for (size_t i = 0; i < p->n; i++) {
			double r = speedup(wl, &t->cell[w][s][p->a[i]],
					   &t->cell[w][s][p->b[i]], p90);

			if (column_applies(o, wl, p->b[i]))
				fmt_ratio(grid_cell(g, row, 1 + ncols + i),
					  CELL_MAX, r);
		}
	}
	return 0;
}

/* Per-op cost at the largest size a module reached over the smallest:
 * 1.00x means the module does not slow down as the token grows. */
static bool scaling(const struct bench_opts *o, const struct bench_table *t,
		    size_t w, size_t m, size_t *lo, size_t *hi, double *f)
{
	const struct bench_workload *wl = &bench_workloads[w];
	size_t first = SIZE_MAX, last = SIZE_MAX;

	*lo = *hi = 0;
	*f = 0;
	for (size_t s = 0; s < o->nsizes; s++) {
		if (t->cell[w][s][m].status != BENCH_OK ||
		    t->cell[w][s][m].value <= 0)
			continue;
		if (first == SIZE_MAX)
			first = s;
		last = s;
	}
	if (first == SIZE_MAX || first == last)
		return false;
	*lo = o->sizes[first];
	*hi = o->sizes[last];
	*f = t->cell[w][last][m].value / t->cell[w][first][m].value;
	if (wl->unit == BENCH_OPS_PER_SECOND)
		*f = 1 / *f;
	return true;
}

static void print_scaling(const struct bench_opts *o,
			  const struct bench_table *t)
{
	struct grid g = {0};

	g.cols = 1 + o->nmodules;
	if (grid_add_row(&g) != 0)
		return;
	snprintf(grid_cell(&g, 0, 0), CELL_MAX, "scaling");
	for (size_t m = 0; m < o->nmodules; m++)
		snprintf(grid_cell(&g, 0, 1 + m), CELL_MAX, "%s",
			 o->modules[m].name);
	for (size_t w = 0; w < bench_nworkloads; w++) {
		size_t row = g.rows;
		bool any = false;

		if (!o->selected[w] || !bench_workloads[w].sized)
			continue;
		if (grid_add_row(&g) != 0)
			goto out_free;
		snprintf(grid_cell(&g, row, 0), CELL_MAX, "%s",
			 bench_workloads[w].name);
		for (size_t m = 0; m < o->nmodules; m++) {
			char *c = grid_cell(&g, row, 1 + m);
			size_t lo, hi;
			double f;

			if (!scaling(o, t, w, m, &lo, &hi, &f)) {
				snprintf(c, CELL_MAX, "-");
				continue;
			}
			fmt_sig(c, CELL_MAX, f, "x");
			snprintf(c + strlen(c), CELL_MAX - strlen(c),
				 " (@%zu/@%zu)", hi, lo);
			any = true;
		}
		if (!any)
			g.rows--;
	}
	if (g.rows > 1) {
		printf("\nscaling: per-operation cost at the largest size "
		       "over the smallest (1.00x = flat)\n");
		grid_print(&g);
	}
out_free:
	free(g.cell);
}

/* The thread count N of a row named X@Nt, or 0. */
static unsigned long row_threads(const char *name, size_t *stem)
{
	const char *at = strrchr(name, '@');
	char *end;
	unsigned long n;

	*stem = 0;
	if (at == NULL || at[1] < '1' || at[1] > '9')
		return 0;
	n = strtoul(at + 1, &end, 10);
	if (strcmp(end, "t") != 0)
		return 0;
	*stem = (size_t)(at - name);
	return n;
}

/* The X@1t row that matches an X@Nt row (N > 1), or SIZE_MAX. */
static size_t one_thread_row(size_t w)
{
	const char *name = bench_workloads[w].name;
	size_t stem, stem1;

	if (row_threads(name, &stem) < 2)
		return SIZE_MAX;
	for (size_t i = 0; i < bench_nworkloads; i++) {
		const char *n1 = bench_workloads[i].name;

		if (row_threads(n1, &stem1) == 1 && stem1 == stem &&
		    strncmp(n1, name, stem) == 0)
			return i;
	}
	return SIZE_MAX;
}

/* For each X@Nt row with its X@1t: the N-thread rate over the one-thread
 * rate per column (2.00x: the second thread doubled the work done). */
static void print_thread_scaling(const struct bench_opts *o,
				 const struct bench_table *t)
{
	size_t ncols = o->nmodules + (has_openssl(o) ? 1 : 0);
	bool header = false;

	for (size_t w = 0; w < bench_nworkloads; w++) {
		size_t w1 = one_thread_row(w);

		if (!o->selected[w] || w1 == SIZE_MAX || !o->selected[w1])
			continue;
		if (!header) {
			printf("\nthreads: rate at N threads (row @Nt) / rate "
			       "at 1 thread\n");
			header = true;
		}
		printf("  %-20s", bench_workloads[w].name);
		for (size_t c = 0; c < ncols; c++) {
			const struct bench_result *a = &t->cell[w][0][c];
			const struct bench_result *b = &t->cell[w1][0][c];

			if (a->status == BENCH_OK && b->status == BENCH_OK &&
			    b->value > 0)
				printf("  %s %.2fx", col_name(o, c),
				       a->value / b->value);
			else
				printf("  %s -", col_name(o, c));
		}
		printf("\n");
	}
}

void bench_report_table(const struct bench_opts *o, const struct bench_table *t)
{
	size_t ncols = o->nmodules + (has_openssl(o) ? 1 : 0);
	struct errs *e = calloc(1, sizeof(*e));
	struct grid g = {0};
	struct pairs p;

	if (e == NULL || grid_add_row(&g) != 0)
		goto out_free;
	make_pairs(o, &p);
	g.cols = 1 + ncols + p.n;
	snprintf(grid_cell(&g, 0, 0), CELL_MAX, "workload");
	for (size_t c = 0; c < ncols; c++)
		snprintf(grid_cell(&g, 0, 1 + c), CELL_MAX, "%s",
			 col_name(o, c));
	for (size_t i = 0; i < p.n; i++)
		snprintf(grid_cell(&g, 0, 1 + ncols + i), CELL_MAX, "%s:%s",
			 col_name(o, p.a[i]), col_name(o, p.b[i]));
	for (size_t w = 0; w < bench_nworkloads; w++) {
		size_t ns = bench_workloads[w].sized ? o->nsizes : 1;

		if (!o->selected[w])
			continue;
		for (size_t s = 0; s < ns; s++)
			if (add_rows(&g, o, t, &p, ncols, w, s, e) != 0)
				goto out_free;
	}

	printf("coffer-bench: reference %s; loops of %gs and at least %u "
	       "runs\n",
	       o->modules[o->reference].name, o->seconds, o->min_runs);
	for (size_t m = 0; m < o->nmodules; m++) {
		printf("  %-10s %s", o->modules[m].name, o->modules[m].path);
		if (o->modules[m].max_objects != SIZE_MAX)
			printf(" (at most %zu objects)",
			       o->modules[m].max_objects);
		if (o->modules[m].server_pid > 0)
			printf(" (server pid %ld)", o->modules[m].server_pid);
		printf("\n");
	}
	if (has_openssl(o))
		printf("  %-10s %s in this process, no PKCS#11\n", "openssl",
		       OpenSSL_version(OPENSSL_VERSION));
	printf("\n");
	grid_print(&g);
	printf("\n"
	       "times: per operation, median, with the p90 below; create: "
	       "objects per second\n"
	       "  while filling up from the previous size; init: C_Initialize "
	       "to the end of\n"
	       "  the first find, median of %u fresh processes (fork before "
	       "dlopen; dlopen\n"
	       "  itself untimed); connect: C_Initialize + the first "
	       "C_GetSlotList, the same way\n"
	       "A:B = how many times faster A is than B (above 1x: A is "
	       "faster)\n"
	       "-: above --max-objects-for, or no figure to compare; n/a: "
	       "CKR_FUNCTION_NOT_SUPPORTED;\n"
	       "?: no result (the process died)\n",
	       o->init_runs);
	for (size_t i = 0; i < e->n; i++)
		printf("ERR[%zu] %s\n", i + 1, e->text[i]);
	print_scaling(o, t);
	print_thread_scaling(o, t);
out_free:
	free(g.cell);
	free(e);
}

static void json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c < 0x20)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

static const char *status_name(uint32_t st)
{
	switch (st) {
	case BENCH_OK:
		return "ok";
	case BENCH_SKIPPED:
		return "skipped";
	case BENCH_UNSUPPORTED:
		return "unsupported";
	case BENCH_ERROR:
		return "error";
	default:
		return "missing";
	}
}

static void json_result(FILE *fp, const struct bench_opts *o, size_t w,
			size_t s, size_t c, const struct bench_result *r,
			bool *first)
{
	const struct bench_workload *wl = &bench_workloads[w];

	fprintf(fp, "%s\n    {\"workload\": ", *first ? "" : ",");
	*first = false;
	json_str(fp, wl->name);
	if (wl->sized)
		fprintf(fp, ", \"size\": %zu", o->sizes[s]);
	fprintf(fp, ", \"column\": ");
	json_str(fp, col_name(o, c));
	fprintf(fp, ", \"status\": \"%s\", \"unit\": \"%s\"",
		status_name(r->status),
		wl->unit == BENCH_OPS_PER_SECOND ? "ops/s" : "s/op");
	if (r->status == BENCH_OK) {
		fprintf(fp, ", \"value\": %.9g, \"runs\": %u", r->value,
			r->runs);
		if (wl->unit == BENCH_SECONDS_PER_OP)
			fprintf(fp, ", \"p90\": %.9g", r->p90);
		if ((wl->kind == BENCH_TIMED || wl->kind == BENCH_RATE) &&
		    r->cpu_client >= 0)
			fprintf(fp, ", \"cpu_client_per_op\": %.9g",
				r->cpu_client);
		if ((wl->kind == BENCH_TIMED || wl->kind == BENCH_RATE) &&
		    r->cpu_server >= 0 && c < o->nmodules &&
		    o->modules[c].server_pid > 0)
			fprintf(fp, ", \"cpu_server_per_op\": %.9g",
				r->cpu_server);
	}
	if (r->status == BENCH_ERROR) {
		fprintf(fp, ", \"error\": ");
		json_str(fp, r->err);
	}
	fprintf(fp, "}");
}

int bench_report_json(const struct bench_opts *o, const struct bench_table *t,
		      const char *path)
{
	size_t ncols = o->nmodules + (has_openssl(o) ? 1 : 0);
	FILE *fp = fopen(path, "w");
	bool first = true;
	struct pairs p;

	if (fp == NULL)
		return -1;
	make_pairs(o, &p);
	fprintf(fp,
		"{\n  \"tool\": \"coffer-bench\",\n  \"seconds\": %g,\n"
		"  \"min_runs\": %u,\n  \"init_runs\": %u,\n"
		"  \"init_mode\": \"fresh process per repetition, fork "
		"before dlopen\",\n  \"reference\": ",
		o->seconds, o->min_runs, o->init_runs);
	json_str(fp, o->modules[o->reference].name);
	fprintf(fp, ",\n  \"modules\": [");
	for (size_t m = 0; m < o->nmodules; m++) {
		fprintf(fp, "%s\n    {\"name\": ", m ? "," : "");
		json_str(fp, o->modules[m].name);
		fprintf(fp, ", \"path\": ");
		json_str(fp, o->modules[m].path);
		if (o->modules[m].max_objects != SIZE_MAX)
			fprintf(fp, ", \"max_objects\": %zu",
				o->modules[m].max_objects);
		if (o->modules[m].server_pid > 0)
			fprintf(fp, ", \"server_pid\": %ld",
				o->modules[m].server_pid);
		fprintf(fp, "}");
	}
	fprintf(fp, "\n  ],\n  \"results\": [");
	for (size_t w = 0; w < bench_nworkloads; w++) {
		size_t ns = bench_workloads[w].sized ? o->nsizes : 1;

		if (!o->selected[w])
			continue;
		for (size_t s = 0; s < ns; s++)
			for (size_t c = 0; c < ncols; c++)
				if (column_applies(o, &bench_workloads[w], c))
					json_result(fp, o, w, s, c,
						    &t->cell[w][s][c], &first);
	}
	fprintf(fp, "\n  ],\n  \"ratios\": [");
	first = true;
	for (size_t w = 0; w < bench_nworkloads; w++) {
		size_t ns = bench_workloads[w].sized ? o->nsizes : 1;

		if (!o->selected[w])
			continue;
		for (size_t s = 0; s < ns; s++)
			for (size_t i = 0; i < p.n; i++) {
				double r = speedup(
				    &bench_workloads[w], &t->cell[w][s][p.a[i]],
				    &t->cell[w][s][p.b[i]], false);
				if (r <= 0)
					continue;
				fprintf(fp, "%s\n    {\"workload\": ",
					first ? "" : ",");
				first = false;
				json_str(fp, bench_workloads[w].name);
				if (bench_workloads[w].sized)
					fprintf(fp, ", \"size\": %zu",
						o->sizes[s]);
				fprintf(fp, ", \"a\": ");
				json_str(fp, col_name(o, p.a[i]));
				fprintf(fp, ", \"b\": ");
				json_str(fp, col_name(o, p.b[i]));
				fprintf(fp, ", \"a_faster_by\": %.6g}", r);
			}
	}
	fprintf(fp, "\n  ],\n  \"scaling\": [");
	first = true;
	for (size_t w = 0; w < bench_nworkloads; w++) {
		if (!o->selected[w] || !bench_workloads[w].sized)
			continue;
		for (size_t m = 0; m < o->nmodules; m++) {
			size_t lo, hi;
			double f;

			if (!scaling(o, t, w, m, &lo, &hi, &f))
				continue;
			fprintf(fp,
				"%s\n    {\"workload\": ", first ? "" : ",");
			first = false;
			json_str(fp, bench_workloads[w].name);
			fprintf(fp, ", \"column\": ");
			json_str(fp, o->modules[m].name);
			fprintf(fp,
				", \"from\": %zu, \"to\": %zu, "
				"\"cost_factor\": %.6g}",
				lo, hi, f);
		}
	}
	fprintf(fp, "\n  ]\n}\n");
	return fclose(fp) == 0 ? 0 : -1;
}

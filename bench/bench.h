/*
 * bench.h - coffer-bench: the same PKCS#11 workloads against any modules.
 *
 * The bench speaks to a module only through its PKCS#11 function list
 * (dlopen + C_GetFunctionList); it never links coffer internals, so it
 * measures coffer, SoftHSMv2 or a vendor module the same way.
 *
 * Process layout (env vars and dlopen'd state are process-wide):
 *   main        parses options, never loads a module, prints the report
 *   runner      one per module: scratch token dir, config, env vars
 *   worker      one per fill stage: dlopen, fill to N objects, timed loops
 *   cold child  one per init repetition: dlopen, C_Initialize .. first find
 * Every descendant writes fixed-size result records into one pipe per
 * module; main reads them until EOF.
 */
#ifndef CF_BENCH_H
#define CF_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coffer/pkcs11.h"

#define BENCH_MAX_MODULES 8
#define BENCH_MAX_SIZES 16
#define BENCH_MAX_WORKLOADS 40
#define BENCH_NAME_MAX 32
#define BENCH_PATH_MAX 4096
#define BENCH_ERR_MAX 160
#define BENCH_MAX_ENV 8 /* --module-env settings per module */

#define BENCH_SO_PIN "12345678"
#define BENCH_USER_PIN "1234"
#define BENCH_TOKEN_LABEL "bench"
#define BENCH_VALUE_LEN 64

/* How a workload runs; the driver for each kind lives in runner.c. */
enum bench_kind {
	BENCH_FILL,  /* the object fill itself, reported as a rate */
	BENCH_TIMED, /* prepare (untimed) + op (timed), repeated */
	BENCH_COLD,  /* fresh process per repetition, pre-dlopen fork:
			prepare (untimed), then C_Initialize + op timed */
	BENCH_RATE,  /* setup once, then op in `threads` threads for the
			loop time: operations per second, all together */
};

/* What the figure means, so the ratio points the right way. */
enum bench_unit {
	BENCH_SECONDS_PER_OP, /* lower is better */
	BENCH_OPS_PER_SECOND, /* higher is better */
};

/* Per-op scratch that prepare fills and op consumes. */
struct bench_arg {
	char label[BENCH_NAME_MAX];
	CK_ULONG label_len;
	unsigned char id[16];
	CK_ULONG id_len;
	CK_OBJECT_HANDLE pool[16]; /* handles resolved once, untimed */
	size_t npool;
	CK_OBJECT_HANDLE obj;
	unsigned char buf[BENCH_VALUE_LEN];
	/* BENCH_RATE rows: the key (and public key) setup made, a signature
	 * to verify, a per-thread message counter (GCM IVs). */
	CK_OBJECT_HANDLE key, pub;
	unsigned char sig[512];
	CK_ULONG sig_len;
	uint64_t counter;
};

/* A logged-in session on the scratch token of one module. */
struct bench_tok {
	CK_FUNCTION_LIST_PTR f;
	long server_pid; /* the module's server (--server-pid), else 0 */
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE sess;
	size_t nobjects; /* objects the bench created so far */
	uint64_t rng;	 /* xorshift state: same targets for every module */
};

struct bench_workload {
	const char *name;
	const char *what; /* one line for --help */
	enum bench_kind kind;
	enum bench_unit unit;
	bool sized; /* one row per --sizes entry */
	/* BENCH_TIMED: choose the target (untimed), then the timed call. */
	CK_RV (*prepare)(struct bench_tok *t, struct bench_arg *a);
	CK_RV (*op)(struct bench_tok *t, struct bench_arg *a);
	/* Optional in-process OpenSSL reference for the same op; 0 or -1.
	 * Thread-safe for BENCH_RATE rows, which run it in `threads`
	 * threads too. */
	int (*openssl_op)(void);
	/* BENCH_RATE: makes the keys once (untimed); then op runs. */
	CK_RV (*setup)(struct bench_tok *t, struct bench_arg *a);
	unsigned int threads;
};

/* Every row (workloads.c fills it before main runs). */
extern struct bench_workload bench_workloads[BENCH_MAX_WORKLOADS];
extern size_t bench_nworkloads;
/* crypto.c: the cryptographic rows. */
extern const struct bench_workload bench_crypto_workloads[];
extern const size_t bench_ncrypto_workloads;

enum bench_status {
	BENCH_MISSING = 0, /* no record arrived: the process died */
	BENCH_OK,
	BENCH_SKIPPED,	   /* above --max-objects-for */
	BENCH_UNSUPPORTED, /* module said CKR_FUNCTION_NOT_SUPPORTED */
	BENCH_ERROR,
};

/* One cell of the report; crosses the pipe as raw bytes. */
struct bench_result {
	uint32_t workload; /* index into bench_workloads */
	uint32_t size_idx; /* index into opts.sizes, 0 when unsized */
	uint32_t status;   /* enum bench_status */
	uint32_t runs;
	double value; /* median s/op, or ops/s */
	double p90;   /* s/op, 0 when not applicable */
	/* CPU seconds (user + sys) per operation during the loop of a
	 * BENCH_TIMED or BENCH_RATE row: the bench process (all threads;
	 * the client side of a remote module), and the --server-pid process
	 * with its children (the server side); negative when not measured. */
	double cpu_client;
	double cpu_server;
	char err[BENCH_ERR_MAX];
};

struct bench_module {
	char name[BENCH_NAME_MAX];
	char path[BENCH_PATH_MAX];
	bool softhsm;	    /* gets softhsm2.conf, else coffer.conf */
	size_t max_objects; /* SIZE_MAX when uncapped */
	/* --module-env: "VAR=VALUE" set in this module's processes only. */
	char env[BENCH_MAX_ENV][BENCH_PATH_MAX];
	size_t nenv;
	/* --server-pid: the module forwards to this server, whose token the
	 * caller set up; no scratch token config is written for it, and the
	 * CPU time of the server and its children is measured. 0: none. */
	long server_pid;
};

struct bench_opts {
	struct bench_module modules[BENCH_MAX_MODULES];
	size_t nmodules;
	size_t reference; /* index of the module ratios are taken against */
	size_t sizes[BENCH_MAX_SIZES];
	size_t nsizes;
	bool selected[BENCH_MAX_WORKLOADS]; /* per workload */
	double seconds;
	unsigned int min_runs;
	unsigned int init_runs;
	unsigned int pause_us; /* between timed operations, untimed */
	const char *json;
	bool self_check;
	char scratch[BENCH_PATH_MAX]; /* parent of every module's token dir */
};

/* Matrix of results: [workload][size][module]; the extra column after the
 * modules holds the in-process OpenSSL reference. */
struct bench_table {
	struct bench_result cell[BENCH_MAX_WORKLOADS][BENCH_MAX_SIZES]
				[BENCH_MAX_MODULES + 1];
};

/* p11.c */
const char *bench_rv_name(CK_RV rv);
/* Loads the module and calls C_GetFunctionList; never dlcloses. */
CK_RV bench_p11_load(const char *path, CK_FUNCTION_LIST_PTR *f, char *err,
		     size_t errlen);
CK_RV bench_p11_initialize(CK_FUNCTION_LIST_PTR f);
/* Finds the free slot, C_InitToken, C_InitPIN. */
CK_RV bench_p11_init_token(CK_FUNCTION_LIST_PTR f, char *err, size_t errlen);
/* Finds the slot whose token is labelled "bench". */
CK_RV bench_p11_find_slot(CK_FUNCTION_LIST_PTR f, CK_SLOT_ID *slot);
/* Fills the label and id of object number i. */
void bench_object_name(size_t i, struct bench_arg *a);
CK_RV bench_create_object(struct bench_tok *t, size_t i);
/* Find by template; *count is the number of handles found (up to 2). */
CK_RV bench_find(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s,
		 CK_ATTRIBUTE_TYPE type, const void *val, CK_ULONG len,
		 CK_OBJECT_HANDLE *obj, CK_ULONG *count);

/* workloads.c */
/* Files rv as r's failure: n/a for an unsupported function or mechanism,
 * else an error named for rv. */
void bench_result_error(struct bench_result *r, CK_RV rv);
uint64_t bench_rng_next(uint64_t *s);
double bench_now(void);
/* Median and p90 (nearest rank) of n samples; sorts them. */
void bench_stats(double *v, size_t n, double *median, double *p90);
/* Time-bounded loop (--seconds, at least min_runs) of one BENCH_TIMED
 * workload; fills r with the median and p90 or the first error. */
void bench_run_timed(const struct bench_opts *o, struct bench_tok *t,
		     const struct bench_workload *w, struct bench_result *r);
/* The same loop over the workload's in-process OpenSSL op (in
 * w->threads threads for a BENCH_RATE row). */
void bench_run_openssl(const struct bench_opts *o,
		       const struct bench_workload *w, struct bench_result *r);
/* BENCH_RATE: setup, then w->op in w->threads threads, each on its own
 * session of t's slot, for the loop time; r->value is operations per
 * second of all threads together. */
void bench_run_rate(const struct bench_opts *o, struct bench_tok *t,
		    const struct bench_workload *w, struct bench_result *r);

/* cpu.c */
/* CPU seconds (user + sys) of this process, all threads. */
double bench_cpu_self(void);
/* CPU seconds of process pid and of its direct children (a forking
 * server's per-connection workers), from /proc; negative when pid is not
 * there. Clock-tick resolution (usually 10 ms): meaningful over loops of
 * seconds, not per call. */
double bench_cpu_tree(long pid);
/* Around a loop: start marks, then end stores per-op figures in r (ops
 * from r->runs; cpu_server stays negative without a server pid). */
struct bench_cpu_mark {
	double self, server;
	long server_pid;
};
void bench_cpu_start(struct bench_cpu_mark *m, long server_pid);
void bench_cpu_end(const struct bench_cpu_mark *m, struct bench_result *r);

/* runner.c */
/* Runs every selected workload for module m, each record written to fd.
 * Called in a child that has not loaded any module; returns 0 when every
 * call succeeded, else 1 (the failures are in the records). */
int bench_runner(const struct bench_opts *o, size_t m, int fd);
int bench_write_result(int fd, const struct bench_result *r);

/* report.c */
void bench_report_table(const struct bench_opts *o,
			const struct bench_table *t);
int bench_report_json(const struct bench_opts *o, const struct bench_table *t,
		      const char *path);

#endif

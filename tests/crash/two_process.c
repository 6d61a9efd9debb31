/*
 * two_process.c - what one process commits, another sees on its next call.
 *
 * usage: two_process MODULE
 *
 * Process B loads the module, opens a session and logs in before process A
 * creates anything. A then creates public and private token data objects
 * and destroys some, and after each call has returned tells B over a pipe
 * what it did. B answers with C_FindObjects on the session it opened at the
 * start, never re-initialising: by the object's name and with an empty
 * template it must see exactly the change, with the value A wrote, and the
 * handle it held for a destroyed object must give CKR_OBJECT_HANDLE_INVALID.
 * Last, B relabels two objects with C_SetAttributeValue and A must see the
 * new labels on its own old session, through its old handles and by search.
 *
 * Objects are named by CKA_APPLICATION: PKCS#11 gives data objects no CKA_ID
 * (and SoftHSMv2 refuses one). Prints TAP.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define NAME_LEN 16
#define VALUE_LEN 200
#define MAX_OBJS 8
#define TIMEOUT_MS 60000

enum ev_op { EV_CREATE = 1, EV_DESTROY, EV_RELABEL, EV_END };

/* One event from A to B, one write() (below PIPE_BUF). */
struct event {
	int op;
	int priv;
	char name[NAME_LEN];
	unsigned char value[VALUE_LEN];
};

struct step {
	enum ev_op op;
	const char *name;
	bool priv;
};

/* Public and private objects, destroys of each kind and a destroy of an
 * object made two steps before, so B's view has to drop and add entries
 * in any order. */
static const struct step script[] = {
    {EV_CREATE, "pub-1", false}, {EV_CREATE, "priv-1", true},
    {EV_CREATE, "pub-2", false}, {EV_DESTROY, "pub-1", false},
    {EV_CREATE, "priv-2", true}, {EV_DESTROY, "priv-1", true},
    {EV_CREATE, "pub-3", false}, {EV_DESTROY, "pub-3", false},
    {EV_RELABEL, "", false},	 {EV_END, "", false},
};

static const char *const relabels[][2] = {
    {"pub-2", "relabelled by B"},
    {"priv-2", "relabelled by B too"},
};

struct pipes {
	int ev[2];   /* A -> B: what A just did */
	int done[2]; /* B -> A: ready, then one byte per event handled */
};

struct known {
	char name[NAME_LEN];
	CK_OBJECT_HANDLE h;
	bool priv;
	unsigned char value[VALUE_LEN];
};

struct view {
	struct known objs[MAX_OBJS];
	size_t n;
};

static void value_for(const char *name, unsigned char out[VALUE_LEN])
{
	size_t i, len = strlen(name);

	/* Distinct per object, so a mix-up of two objects shows. */
	for (i = 0; i < VALUE_LEN; i++)
		out[i] = (unsigned char)(name[i % len] * 31 + i);
}

static struct known *view_find(struct view *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (strcmp(v->objs[i].name, name) == 0)
			return &v->objs[i];
	return NULL;
}

static bool read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

static bool send_byte(int fd)
{
	char c = '.';

	return write(fd, &c, 1) == 1;
}

static CK_RV open_login(struct h_module *m, CK_SESSION_HANDLE *sh)
{
	CK_SLOT_ID slot;
	CK_RV rv;

	rv = h_find_token(m, H_TOKEN_LABEL, &slot);
	if (rv != CKR_OK)
		return rv;
	rv = m->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
				 NULL, NULL, sh);
	if (rv != CKR_OK)
		return rv;
	return m->f->C_Login(*sh, CKU_USER, (CK_UTF8CHAR_PTR)H_USER_PIN,
			     strlen(H_USER_PIN));
}

/* Up to max handles matching tmpl; *n is how many there were in all. */
static CK_RV find(struct h_module *m, CK_SESSION_HANDLE sh, CK_ATTRIBUTE *tmpl,
		  CK_ULONG count, CK_OBJECT_HANDLE *out, CK_ULONG max,
		  CK_ULONG *n)
{
	CK_OBJECT_HANDLE spill[16];
	CK_ULONG got;
	CK_RV rv;

	*n = 0;
	rv = m->f->C_FindObjectsInit(sh, tmpl, count);
	if (rv != CKR_OK)
		return rv;
	rv = m->f->C_FindObjects(sh, out, max, &got);
	*n = got;
	while (rv == CKR_OK && got > 0) {
		rv = m->f->C_FindObjects(sh, spill, 16, &got);
		*n += got;
	}
	m->f->C_FindObjectsFinal(sh);
	return rv;
}

static CK_RV find_by_name(struct h_module *m, CK_SESSION_HANDLE sh,
			  const char *name, CK_OBJECT_HANDLE *h, CK_ULONG *n)
{
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_APPLICATION, (void *)name, strlen(name)},
	};

	return find(m, sh, tmpl, 1, h, 1, n);
}

static CK_RV get_text(struct h_module *m, CK_SESSION_HANDLE sh,
		      CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t, char *out,
		      size_t outlen)
{
	CK_ATTRIBUTE a = {t, out, outlen - 1};
	CK_RV rv;

	out[0] = '\0';
	rv = m->f->C_GetAttributeValue(sh, h, &a, 1);
	if (rv == CKR_OK)
		out[a.ulValueLen] = '\0';
	return rv;
}

/* ---- process A: writes ------------------------------------------------ */

static bool a_create(struct h_module *m, CK_SESSION_HANDLE sh, struct view *v,
		     const struct step *s, struct event *ev)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE, priv = s->priv ? CK_TRUE : CK_FALSE;
	struct known *k = &v->objs[v->n];
	CK_RV rv;

	value_for(s->name, k->value);
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_PRIVATE, &priv, sizeof(priv)},
	    {CKA_APPLICATION, (void *)s->name, strlen(s->name)},
	    {CKA_LABEL, (void *)s->name, strlen(s->name)},
	    {CKA_VALUE, k->value, VALUE_LEN},
	};

	rv = m->f->C_CreateObject(sh, tmpl, 6, &k->h);
	if (!h_report(rv == CKR_OK, "A creates %s object %s: %s",
		      s->priv ? "private" : "public", s->name, h_rv_name(rv)))
		return false;
	snprintf(k->name, sizeof(k->name), "%s", s->name);
	k->priv = s->priv;
	v->n++;
	memcpy(ev->value, k->value, VALUE_LEN);
	return true;
}

static bool a_destroy(struct h_module *m, CK_SESSION_HANDLE sh, struct view *v,
		      const struct step *s)
{
	struct known *k = view_find(v, s->name);
	CK_RV rv;

	if (k == NULL)
		return h_report(false, "A destroys %s: never made", s->name);
	rv = m->f->C_DestroyObject(sh, k->h);
	if (!h_report(rv == CKR_OK, "A destroys %s: %s", s->name,
		      h_rv_name(rv)))
		return false;
	*k = v->objs[--v->n];
	return true;
}

/* After B relabelled: A's old handles and a search by the new label on
 * A's old session must both show B's label. */
static void a_check_relabels(struct h_module *m, CK_SESSION_HANDLE sh,
			     struct view *v)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	char label[64];
	CK_ULONG n;
	size_t i;
	CK_RV rv;

	for (i = 0; i < sizeof(relabels) / sizeof(relabels[0]); i++) {
		struct known *k = view_find(v, relabels[i][0]);
		CK_ATTRIBUTE tmpl[] = {
		    {CKA_LABEL, (void *)relabels[i][1], strlen(relabels[i][1])},
		};

		if (k == NULL) {
			h_report(false, "A knows %s", relabels[i][0]);
			continue;
		}
		rv = get_text(m, sh, k->h, CKA_LABEL, label, sizeof(label));
		h_report(rv == CKR_OK && strcmp(label, relabels[i][1]) == 0,
			 "A sees B's label on %s through its old handle: "
			 "%s '%s'",
			 k->name, h_rv_name(rv), label);
		rv = find(m, sh, tmpl, 1, &h, 1, &n);
		h_report(rv == CKR_OK && n == 1 && h == k->h,
			 "A finds %s by B's label: %s, %lu found", k->name,
			 h_rv_name(rv), (unsigned long)n);
	}
}

static int a_main(struct h_module *m, void *arg)
{
	struct pipes *p = arg;
	struct view v = {0};
	CK_SESSION_HANDLE sh;
	struct event ev;
	size_t i;
	char c;
	bool ok = true;
	CK_RV rv;

	close(p->ev[0]);
	close(p->done[1]);
	rv = open_login(m, &sh);
	if (!h_report(rv == CKR_OK, "A opens a session and logs in: %s",
		      h_rv_name(rv)))
		return 1;
	if (!h_report(read_full(p->done[0], &c, 1),
		      "A hears that B's session is open"))
		return 1;
	for (i = 0; i < sizeof(script) / sizeof(script[0]); i++) {
		const struct step *s = &script[i];

		memset(&ev, 0, sizeof(ev));
		ev.op = (int)s->op;
		ev.priv = s->priv;
		snprintf(ev.name, sizeof(ev.name), "%s", s->name);
		if (s->op == EV_CREATE)
			ok = a_create(m, sh, &v, s, &ev);
		else if (s->op == EV_DESTROY)
			ok = a_destroy(m, sh, &v, s);
		/* B cannot check what did not happen; stop both. */
		if (!ok)
			ev.op = EV_END;
		if (write(p->ev[1], &ev, sizeof(ev)) != (ssize_t)sizeof(ev) ||
		    !read_full(p->done[0], &c, 1)) {
			h_report(false, "A hears back from B after step %zu",
				 i + 1);
			return 1;
		}
		if (ev.op == EV_END)
			break;
		if (s->op == EV_RELABEL)
			a_check_relabels(m, sh, &v);
	}
	m->f->C_Logout(sh);
	m->f->C_CloseSession(sh);
	return ok ? 0 : 1;
}

/* ---- process B: reads on its first session ---------------------------- */

/* The empty-template search must list exactly the objects B expects. */
static void b_check_all(struct h_module *m, CK_SESSION_HANDLE sh,
			struct view *v, const char *after)
{
	CK_OBJECT_HANDLE hs[MAX_OBJS + 1];
	char name[NAME_LEN + 8];
	CK_ULONG n, i, matched = 0;
	CK_RV rv;

	rv = find(m, sh, NULL, 0, hs, MAX_OBJS + 1, &n);
	for (i = 0; rv == CKR_OK && i < n && i <= MAX_OBJS; i++) {
		if (get_text(m, sh, hs[i], CKA_APPLICATION, name,
			     sizeof(name)) == CKR_OK &&
		    view_find(v, name) != NULL)
			matched++;
	}
	h_report(rv == CKR_OK && n == v->n && matched == v->n,
		 "B's empty-template search after %s lists exactly the %zu "
		 "live objects: %s, %lu found, %lu expected ones",
		 after, v->n, h_rv_name(rv), (unsigned long)n,
		 (unsigned long)matched);
}

static void b_on_create(struct h_module *m, CK_SESSION_HANDLE sh,
			struct view *v, const struct event *ev)
{
	unsigned char value[VALUE_LEN + 1];
	CK_BBOOL priv = CK_FALSE;
	struct known *k = &v->objs[v->n];
	CK_ULONG n;
	CK_RV rv;

	rv = find_by_name(m, sh, ev->name, &k->h, &n);
	if (!h_report(rv == CKR_OK && n == 1,
		      "B finds A's new %s object %s by name: %s, %lu found",
		      ev->priv ? "private" : "public", ev->name, h_rv_name(rv),
		      (unsigned long)n))
		return;
	CK_ATTRIBUTE attrs[] = {
	    {CKA_VALUE, value, sizeof(value)},
	    {CKA_PRIVATE, &priv, sizeof(priv)},
	};
	rv = m->f->C_GetAttributeValue(sh, k->h, attrs, 2);
	h_report(rv == CKR_OK && attrs[0].ulValueLen == VALUE_LEN &&
		     memcmp(value, ev->value, VALUE_LEN) == 0 &&
		     priv == (ev->priv ? CK_TRUE : CK_FALSE),
		 "B reads %s with A's value and CKA_PRIVATE: %s", ev->name,
		 h_rv_name(rv));
	snprintf(k->name, sizeof(k->name), "%s", ev->name);
	k->priv = ev->priv;
	v->n++;
}

static void b_on_destroy(struct h_module *m, CK_SESSION_HANDLE sh,
			 struct view *v, const struct event *ev)
{
	struct known *k = view_find(v, ev->name);
	CK_OBJECT_HANDLE h;
	char label[64];
	CK_ULONG n;
	CK_RV rv;

	rv = find_by_name(m, sh, ev->name, &h, &n);
	h_report(rv == CKR_OK && n == 0,
		 "B no longer finds %s after A destroyed it: %s, %lu found",
		 ev->name, h_rv_name(rv), (unsigned long)n);
	if (k == NULL) {
		h_report(false, "B held a handle for %s", ev->name);
		return;
	}
	rv = get_text(m, sh, k->h, CKA_LABEL, label, sizeof(label));
	h_report(rv == CKR_OBJECT_HANDLE_INVALID,
		 "B's old handle for %s gives CKR_OBJECT_HANDLE_INVALID: %s",
		 ev->name, h_rv_name(rv));
	*k = v->objs[--v->n];
}

static void b_relabel(struct h_module *m, CK_SESSION_HANDLE sh, struct view *v)
{
	size_t i;
	CK_RV rv;

	for (i = 0; i < sizeof(relabels) / sizeof(relabels[0]); i++) {
		struct known *k = view_find(v, relabels[i][0]);
		CK_ATTRIBUTE a = {CKA_LABEL, (void *)relabels[i][1],
				  strlen(relabels[i][1])};

		if (k == NULL) {
			h_report(false, "B knows %s", relabels[i][0]);
			continue;
		}
		rv = m->f->C_SetAttributeValue(sh, k->h, &a, 1);
		h_report(rv == CKR_OK, "B relabels %s: %s", k->name,
			 h_rv_name(rv));
	}
}

static int b_main(struct h_module *m, void *arg)
{
	struct pipes *p = arg;
	struct view v = {0};
	CK_SESSION_HANDLE sh;
	struct event ev;
	char what[NAME_LEN + 16];
	CK_RV rv;

	close(p->ev[1]);
	close(p->done[0]);
	rv = open_login(m, &sh);
	if (!h_report(rv == CKR_OK,
		      "B opens a session and logs in before "
		      "A writes: %s",
		      h_rv_name(rv)))
		return 1;
	b_check_all(m, sh, &v, "login");
	if (!send_byte(p->done[1]))
		return 1;
	while (read_full(p->ev[0], &ev, sizeof(ev))) {
		ev.name[NAME_LEN - 1] = '\0';
		snprintf(what, sizeof(what), "%s %s",
			 ev.op == EV_CREATE ? "create" : "destroy", ev.name);
		if (ev.op == EV_CREATE) {
			b_on_create(m, sh, &v, &ev);
			b_check_all(m, sh, &v, what);
		} else if (ev.op == EV_DESTROY) {
			b_on_destroy(m, sh, &v, &ev);
			b_check_all(m, sh, &v, what);
		} else if (ev.op == EV_RELABEL) {
			b_relabel(m, sh, &v);
		}
		if (!send_byte(p->done[1]))
			return 1;
		if (ev.op == EV_END)
			break;
	}
	m->f->C_Logout(sh);
	m->f->C_CloseSession(sh);
	return 0;
}

int main(int argc, char **argv)
{
	struct h_scratch scratch;
	struct h_results res;
	struct pipes p;
	pid_t a, b;
	int st_a, st_b, rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s MODULE\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A reader that goes away (| head) must not stop the cleanup. */
	signal(SIGPIPE, SIG_IGN);
	printf("TAP version 13\n");
	if (h_scratch_new(&scratch, argv[1]) != 0) {
		printf("Bail out! cannot make a scratch directory\n");
		return 1;
	}
	if (h_results_init(&res) != 0) {
		printf("Bail out! pipe\n");
		goto out_scratch;
	}
	if (h_wait(h_spawn(argv[1], h_token_setup_main, NULL), TIMEOUT_MS) != 0) {
		printf("Bail out! token setup failed\n");
		goto out_results;
	}
	if (pipe(p.ev) != 0)
		goto out_results;
	if (pipe(p.done) != 0)
		goto out_ev;
	b = h_spawn(argv[1], b_main, &p);
	a = h_spawn(argv[1], a_main, &p);
	/* Only A and B may hold the ends, or EOF never comes when one of
	 * them dies. */
	close(p.done[0]);
	close(p.done[1]);
	close(p.ev[0]);
	close(p.ev[1]);
	st_a = h_wait(a, TIMEOUT_MS);
	st_b = h_wait(b, TIMEOUT_MS);
	h_report(st_a == 0 && st_b == 0, "A and B exit cleanly (%d, %d)", st_a,
		 st_b);
	h_results_drain(&res);
	printf("1..%u\n", res.count);
	rc = res.failed == 0 && res.count > 0 ? 0 : 1;
	goto out_results;
out_ev:
	close(p.ev[0]);
	close(p.ev[1]);
out_results:
	h_results_close(&res);
out_scratch:
	h_scratch_remove(&scratch);
	return rc;
}
